/**
 * Per-step curves of a sweep's tasks (`tritonml.report(step=..., loss=...)`): the data shaping for the
 * small line drawn in each row of the results table. Pure functions; the SVG paths come from the
 * metrics charts' own line helper, so a curve breaks at missing values the same way.
 *
 * All rows share one scale (steps and values over every task), so that a task stuck at a loss of 10
 * reads as a flat line at the top while the good ones fall, and a task pruned at step 2 stops short.
 */
import { TritonAPI } from '../api';
import { linearScale, linePath } from '../metrics/axes';
import { formatNumber } from '../metrics/series';

/** A task's per-step values as the server sends them (thinned to at most 32 points). */
export type ICurve = NonNullable<TritonAPI.ISweepTask['curve']>;
/** Why and where a task was stopped early. */
export type IPruned = NonNullable<TritonAPI.ISweepTask['pruned']>;

/** The task's curve; null without one (also in a notebook's snapshot saved before curves existed). */
export function curveOf(task: TritonAPI.ISweepTask): ICurve | null {
  const curve = task.curve;
  return curve && Array.isArray(curve.steps) && curve.steps.length > 0 && curve.values ? curve : null;
}

export function prunedOf(task: TritonAPI.ISweepTask): IPruned | null {
  const pruned = task.pruned;
  return pruned && typeof pruned.step === 'number' ? pruned : null;
}

/** The name a task's curve shows: the sweep's metric when reported per step, else the first one. */
export function curveName(curve: ICurve, metric: string | null): string | null {
  if (metric && curve.values[metric]) {
    return metric;
  }
  const names = Object.keys(curve.values);
  return names.length ? names[0] : null;
}

/**
 * The shared scale of the sweep's curves: steps and values over every task's shown series; `log` when
 * all values are positive and span a factor of 10 or more (a loss stuck at 10 beside ones falling to
 * 0.1 would otherwise flatten the good curves against the bottom).
 */
export interface ICurveDomain {
  steps: [number, number];
  values: [number, number];
  log: boolean;
}

/** Values spanning at least this factor (all positive) are drawn on a log scale. */
export const LOG_SPAN = 10;

export function curveDomain(tasks: readonly TritonAPI.ISweepTask[], metric: string | null): ICurveDomain | null {
  let s0 = Infinity;
  let s1 = -Infinity;
  let v0 = Infinity;
  let v1 = -Infinity;
  for (const task of tasks) {
    const curve = curveOf(task);
    const name = curve && curveName(curve, metric);
    if (!curve || !name) {
      continue;
    }
    const values = curve.values[name];
    curve.steps.forEach((step, i) => {
      const value = values[i];
      if (typeof value !== 'number' || !isFinite(value)) {
        return;
      }
      s0 = Math.min(s0, step);
      s1 = Math.max(s1, step);
      v0 = Math.min(v0, value);
      v1 = Math.max(v1, value);
    });
  }
  return isFinite(s0) ? { steps: [s0, s1], values: [v0, v1], log: v0 > 0 && v1 / v0 >= LOG_SPAN } : null;
}

export interface ISparkline {
  /** The line (empty for a single point). */
  path: string;
  /** The last point, marked with a dot (where a pruned task stopped). */
  end: { x: number; y: number } | null;
  /** "loss 1 → 0.2 over steps 0–4 (5 reported)", for the tooltip and screen readers. */
  label: string;
}

/**
 * The sparkline of one task in a `width` × `height` box (a pixel of padding all round), on the
 * sweep's shared domain; null when the task has no curve.
 */
export function sparkline(
  task: TritonAPI.ISweepTask,
  metric: string | null,
  domain: ICurveDomain | null,
  width: number,
  height: number
): ISparkline | null {
  const curve = curveOf(task);
  const name = curve && curveName(curve, metric);
  if (!curve || !name || !domain) {
    return null;
  }
  const pad = 2;
  const x = linearScale(domain.steps[0], domain.steps[1], pad, width - pad);
  const f = domain.log ? Math.log10 : (v: number) => v;
  const scale = linearScale(f(domain.values[0]), f(domain.values[1]), height - pad, pad);
  const y = (v: number) => scale(f(v));
  const values = curve.values[name].map(v =>
    typeof v === 'number' && isFinite(v) && (!domain.log || v > 0) ? v : null
  );
  const path = linePath({ t: curve.steps, v: values, gaps: curve.steps.map(() => Infinity) }, x, y);
  let last = -1;
  values.forEach((v, i) => {
    if (v !== null) {
      last = i;
    }
  });
  const known = values.filter((v): v is number => v !== null);
  const steps = curve.steps;
  const span = steps.length > 1 ? `steps ${steps[0]}–${steps[steps.length - 1]}` : `step ${steps[0]}`;
  const change = known.length
    ? known.length > 1
      ? `${formatNumber(known[0])} → ${formatNumber(known[known.length - 1])}`
      : formatNumber(known[0])
    : 'no value';
  return {
    path,
    end: last >= 0 ? { x: round(x(steps[last])), y: round(y(values[last] as number)) } : null,
    label: `${name} ${change} over ${span} (${curve.count} reported)`
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Does any task have a curve (then the table shows the curve column)? */
export function hasCurves(tasks: readonly TritonAPI.ISweepTask[]): boolean {
  return tasks.some(task => curveOf(task) !== null);
}

/** "pruning: median (after 5 completed trials, from step 0)". */
export function pruneLabel(prune: { [key: string]: unknown }, search: string): string {
  const startup = Number(prune.startup ?? 5);
  const after = search === 'optuna' ? `after ${startup} completed trials` : `once ${startup} other tasks reach a step`;
  return `pruning: ${String(prune.rule ?? 'median')} (${after}, from step ${Number(prune.warmup ?? 0)})`;
}
