/**
 * A sweep's results table as pure functions: its columns, sorting, the best point, failed rows,
 * progress and the formatting of cells.
 */
import { TritonAPI } from '../api';
import { isActive, stateFamily, StateFamily } from '../jobs/format';
import { JobsModel } from '../jobs/model';

type Task = TritonAPI.ISweepTask;

/** At most this many metric columns (a task may report many values). */
export const MAX_METRIC_COLUMNS = 8;

/**
 * The point's names, in the order the sweep gave them: its space's names (so that an Optuna sweep
 * whose tasks have not asked for their points yet has its columns), then any others the tasks have.
 */
export function paramColumns(tasks: readonly Task[], space?: TritonAPI.ISweep['space']): string[] {
  const search = (space?.grid ??
    (space?.random as { space?: object } | undefined)?.space ??
    (space?.optuna as { space?: object } | undefined)?.space ??
    {}) as object;
  const names: string[] = Object.keys(search);
  for (const task of tasks) {
    for (const name of Object.keys(task.params ?? {})) {
      if (!names.includes(name)) {
        names.push(name);
      }
    }
  }
  return names;
}

/** The reported names: the sweep's metric first, then the others in the order they appear. */
export function metricColumns(tasks: readonly Task[], metric: string | null, max = MAX_METRIC_COLUMNS): string[] {
  const names: string[] = metric ? [metric] : [];
  for (const task of tasks) {
    for (const name of Object.keys(task.result ?? {})) {
      if (names.length >= max) {
        return names;
      }
      if (!names.includes(name)) {
        names.push(name);
      }
    }
  }
  return names;
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && isFinite(value);
}

/** What a column holds for a task: 'index', 'state', 'param:NAME' or 'result:NAME'. */
export type SortKey = string;

export function cellValue(task: Task, key: SortKey): unknown {
  if (key === 'index') {
    return task.index;
  }
  if (key === 'state') {
    return task.state;
  }
  if (key.startsWith('param:')) {
    return (task.params ?? {})[key.slice(6)];
  }
  if (key.startsWith('result:')) {
    return (task.result ?? {})[key.slice(7)];
  }
  return undefined;
}

/**
 * Tasks sorted by `key` ('asc' or 'desc'): values present first (numbers by value, then text), tasks
 * without one last, ties by index. With the metric as key this is the server's order: best first.
 */
export function sortTasks(tasks: readonly Task[], key: SortKey, direction: 'asc' | 'desc'): Task[] {
  const sign = direction === 'desc' ? -1 : 1;
  const rank = (value: unknown) => (isNumber(value) ? 0 : value === undefined || value === null ? 2 : 1);
  return [...tasks].sort((a, b) => {
    const x = cellValue(a, key);
    const y = cellValue(b, key);
    const rx = rank(x);
    const ry = rank(y);
    if (rx !== ry) {
      return rx - ry;
    }
    if (rx === 0 && x !== y) {
      return sign * ((x as number) - (y as number));
    }
    if (rx === 1) {
      const order = String(x).localeCompare(String(y), undefined, { numeric: true });
      if (order !== 0) {
        return sign * order;
      }
    }
    return a.index - b.index;
  });
}

/** The sweep's own order: by its metric (min or max first), else by index. */
export function defaultSort(sweep: Pick<TritonAPI.ISweep, 'metric' | 'mode'>): {
  key: SortKey;
  direction: 'asc' | 'desc';
} {
  return sweep.metric
    ? { key: `result:${sweep.metric}`, direction: sweep.mode === 'max' ? 'desc' : 'asc' }
    : { key: 'index', direction: 'asc' };
}

/** The best point: a COMPLETED, unpruned task with the best numeric metric (lowest index on ties); null without. */
export function bestTask(tasks: readonly Task[], metric: string | null, mode: 'min' | 'max'): Task | null {
  if (!metric) {
    return null;
  }
  let best: Task | null = null;
  let bestValue = 0;
  for (const task of tasks) {
    const value = (task.result ?? {})[metric];
    if (task.state !== 'COMPLETED' || task.pruned || !isNumber(value)) {
      continue;
    }
    const better =
      best === null ||
      (mode === 'max' ? value > bestValue : value < bestValue) ||
      (value === bestValue && task.index < best.index);
    if (better) {
      best = task;
      bestValue = value;
    }
  }
  return best;
}

/** Tasks that ended without completing (failed, cancelled, timed out, ...), by index. */
export function failedTasks(tasks: readonly Task[]): Task[] {
  return tasks.filter(task => !isActive(task.state) && task.state !== 'COMPLETED').sort((a, b) => a.index - b.index);
}

/** Tasks a "Retry failed" would run again: ended, not completed (the server's default). */
export function retryableCount(tasks: readonly Task[]): number {
  return failedTasks(tasks).length;
}

export interface IProgress {
  total: number;
  /** Tasks per state family, in the order the progress bar shows them. */
  families: { family: StateFamily; count: number }[];
  ended: number;
  active: number;
}

const FAMILY_ORDER: StateFamily[] = ['done', 'failed', 'cancelled', 'running', 'pending'];

/** The progress bar's segments from the sweep's counts per state. */
export function progress(sweep: Pick<TritonAPI.ISweep, 'counts' | 'total'>): IProgress {
  const byFamily = new Map<StateFamily, number>();
  for (const [state, count] of Object.entries(sweep.counts)) {
    const family = stateFamily(state);
    byFamily.set(family, (byFamily.get(family) ?? 0) + count);
  }
  const families = FAMILY_ORDER.filter(f => (byFamily.get(f) ?? 0) > 0).map(family => ({
    family,
    count: byFamily.get(family) ?? 0
  }));
  const active = (byFamily.get('running') ?? 0) + (byFamily.get('pending') ?? 0);
  return { total: sweep.total, families, active, ended: sweep.total - active };
}

/** 0.000123456 -> "0.000123456", 12345.6789 -> "12345.7", true -> "true", {..} -> JSON. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'number') {
    if (!isFinite(value)) {
      return String(value);
    }
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

/** "lr=0.001, batch=32"; "" for a point not chosen yet (an Optuna task that has not started). */
export function formatParams(params: Task['params']): string {
  return Object.entries(params ?? {})
    .map(([name, value]) => `${name}=${formatValue(value)}`)
    .join(', ');
}

/** The last non-empty line of a task's error (the exception, usually). */
export function errorSummary(error: string | null | undefined): string {
  const lines = (error ?? '')
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '';
}

/** The array job a job record belongs to: "123" for "123", "123_4" or "123_[0-9%2]". */
export function arrayJobOf(job: Pick<TritonAPI.IJob, 'id' | 'array_job_id'>): string {
  return job.array_job_id || job.id.split('_')[0];
}

/**
 * Does the sweep say a task is still active while the jobs model already saw it end? Then the sweep
 * was read a moment too early (Slurm's accounting or the task's files lag): worth asking again.
 */
export function staleAgainst(sweep: TritonAPI.ISweep, jobs: Pick<JobsModel, 'get'>): boolean {
  return sweep.tasks.some(task => {
    if (!isActive(task.state)) {
      return false;
    }
    const job = jobs.get(task.job_id);
    return !!job && !isActive(job.state);
  });
}
