import { TritonAPI } from '../api';
import { JobsModel } from '../jobs/model';
import { fakeChannel, FakeSocket, job } from './jobs.fixture';
import {
  arrayJobOf,
  bestTask,
  defaultSort,
  errorSummary,
  failedTasks,
  formatParams,
  formatValue,
  metricColumns,
  paramColumns,
  progress,
  sortTasks,
  staleAgainst
} from '../sweeps/table';
import { SweepModel } from '../sweeps/model';

function task(index: number, over: Partial<TritonAPI.ISweepTask> = {}): TritonAPI.ISweepTask {
  return {
    index,
    params: { lr: 10 ** -(index + 1), batch: 32 },
    state: 'COMPLETED',
    result: null,
    error: null,
    exit_code: 0,
    job_id: `100_${index}`,
    attempt: 0,
    best: false,
    pruned: null,
    curve: null,
    ...over
  };
}

function sweep(tasks: TritonAPI.ISweepTask[], over: Partial<TritonAPI.ISweep> = {}): TritonAPI.ISweep {
  const counts: { [state: string]: number } = {};
  for (const t of tasks) {
    counts[t.state] = (counts[t.state] ?? 0) + 1;
  }
  return {
    id: '100',
    name: 'grid',
    search: 'grid',
    space: {},
    metric: 'loss',
    mode: 'min',
    parallel: null,
    created_at: 0,
    total: tasks.length,
    counts,
    finished: tasks.every(t => !['PENDING', 'RUNNING'].includes(t.state)),
    best: null,
    jobs: [
      { id: '100', attempt: 0, tasks: tasks.length, array: `0-${tasks.length - 1}`, directory: '/j', after: null }
    ],
    tasks,
    slurm_error: null,
    cancelled_at: null,
    prune: null,
    pruned: 0,
    ...over
  };
}

// The results of a small grid: 1 has the lowest loss but FAILED after reporting, 3 reported text.
const TASKS = [
  task(0, { result: { loss: 0.5, acc: 0.8 } }),
  task(1, {
    state: 'FAILED',
    result: { loss: 0.01 },
    error: 'Traceback …\n  File "cell.py"\nValueError: boom\n',
    exit_code: 1
  }),
  task(2, { result: { loss: 0.2, acc: 0.9, note: 'ok' } }),
  task(3, { result: { loss: 'nan?' } }),
  task(4, { state: 'RUNNING' }),
  task(5, { state: 'CANCELLED', error: 'The task was cancelled.' })
];

describe('the results table', () => {
  it('has a column per parameter and per reported value, the metric first', () => {
    expect(paramColumns(TASKS)).toEqual(['lr', 'batch']);
    expect(metricColumns(TASKS, 'loss')).toEqual(['loss', 'acc', 'note']);
    expect(metricColumns(TASKS, null)).toEqual(['loss', 'acc', 'note']);
    expect(metricColumns(TASKS, 'loss', 2)).toEqual(['loss', 'acc']);
  });

  it('sorts by the metric, best first, with tasks that reported nothing last', () => {
    const order = defaultSort({ metric: 'loss', mode: 'min' });
    expect(order).toEqual({ key: 'result:loss', direction: 'asc' });
    expect(sortTasks(TASKS, order.key, order.direction).map(t => t.index)).toEqual([1, 2, 0, 3, 4, 5]);
    expect(sortTasks(TASKS, 'result:loss', 'desc').map(t => t.index)).toEqual([0, 2, 1, 3, 4, 5]);
    expect(defaultSort({ metric: 'acc', mode: 'max' })).toEqual({ key: 'result:acc', direction: 'desc' });
    expect(defaultSort({ metric: null, mode: 'min' })).toEqual({ key: 'index', direction: 'asc' });
  });

  it('sorts by any column: parameters, state, index', () => {
    expect(sortTasks(TASKS, 'param:lr', 'asc').map(t => t.index)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(sortTasks(TASKS, 'state', 'asc').map(t => t.state)).toEqual([
      'CANCELLED',
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
      'FAILED',
      'RUNNING'
    ]);
    expect(sortTasks(TASKS, 'index', 'desc').map(t => t.index)).toEqual([5, 4, 3, 2, 1, 0]);
    // ties keep the sweep's order
    expect(sortTasks(TASKS, 'param:batch', 'desc').map(t => t.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(TASKS.map(t => t.index)).toEqual([0, 1, 2, 3, 4, 5]); // not sorted in place
  });

  it('marks as best only a COMPLETED task with a numeric metric', () => {
    expect(bestTask(TASKS, 'loss', 'min')?.index).toBe(2); // 1 is lower but FAILED
    expect(bestTask(TASKS, 'loss', 'max')?.index).toBe(0);
    expect(bestTask(TASKS, 'acc', 'max')?.index).toBe(2);
    expect(bestTask(TASKS, null, 'min')).toBeNull();
    expect(bestTask([task(0), task(1, { state: 'FAILED' })], 'loss', 'min')).toBeNull();
    const tie = [task(3, { result: { loss: 1 } }), task(1, { result: { loss: 1 } })];
    expect(bestTask(tie, 'loss', 'min')?.index).toBe(1);
  });

  it('lists the tasks that ended without completing, with their error', () => {
    const failed = failedTasks(TASKS);
    expect(failed.map(t => [t.index, t.state])).toEqual([
      [1, 'FAILED'],
      [5, 'CANCELLED']
    ]);
    expect(errorSummary(failed[0].error)).toBe('ValueError: boom');
    expect(errorSummary(null)).toBe('');
  });

  it('counts the tasks per state family for the progress bar', () => {
    const p = progress(sweep(TASKS));
    expect(p.families).toEqual([
      { family: 'done', count: 3 },
      { family: 'failed', count: 1 },
      { family: 'cancelled', count: 1 },
      { family: 'running', count: 1 }
    ]);
    expect([p.total, p.ended, p.active]).toEqual([6, 5, 1]);
    expect(progress({ counts: { PENDING: 4 }, total: 4 }).families).toEqual([{ family: 'pending', count: 4 }]);
  });

  it('formats values compactly', () => {
    expect(formatValue(0.000123456789)).toBe('0.000123457');
    expect(formatValue(12345.6789)).toBe('12345.7');
    expect(formatValue(32)).toBe('32');
    expect(formatValue(true)).toBe('true');
    expect(formatValue(null)).toBe('');
    expect(formatValue({ a: [1] })).toBe('{"a":[1]}');
  });

  it('knows the array job of a job record', () => {
    expect(arrayJobOf(job({ id: '100_3', array_job_id: '100' }))).toBe('100');
    expect(arrayJobOf(job({ id: '100_[0-3%2]' }))).toBe('100');
    expect(arrayJobOf(job({ id: '7' }))).toBe('7');
  });
});

// The view's dialogs (cancel, retry) come from apputils, whose ES-module dependencies jest does not
// load; rendering the table needs none of them.
jest.mock('@jupyterlab/apputils', () => ({ Dialog: {}, Notification: {}, showDialog: jest.fn() }));

// An Optuna sweep: tasks get their point when they start, so a pending task's params are null.
const OPTUNA_SPACE = { optuna: { n: 4, sampler: 'tpe', space: { x: { low: 0, high: 1 } }, study: 's', journal: '/j' } };
const OPTUNA_TASKS = [
  task(0, { params: { x: 0.31 }, result: { loss: 0.0001 }, best: true }),
  task(1, { params: { x: 0.9 }, state: 'FAILED', error: 'Traceback …\nValueError: too big', exit_code: 1 }),
  task(2, { params: null, state: 'PENDING', exit_code: null }),
  task(3, { params: { x: 0.5 }, result: { loss: 0.04 } })
];

describe('an Optuna sweep, whose points are chosen as its tasks start', () => {
  it('has its columns from the space, and empty cells for tasks without a point yet', () => {
    expect(paramColumns(OPTUNA_TASKS, OPTUNA_SPACE)).toEqual(['x']);
    const pending = OPTUNA_TASKS.map(t => ({ ...t, params: null, result: null, state: 'PENDING' as const }));
    expect(paramColumns(pending, OPTUNA_SPACE)).toEqual(['x']); // none started: still the column
    expect(paramColumns(pending)).toEqual([]);
    expect(paramColumns(TASKS, { grid: { batch: [32], lr: [0.1] } })).toEqual(['batch', 'lr']);
    expect(formatParams(null)).toBe('');
    expect(formatParams({ x: 0.5, layers: 2 })).toBe('x=0.5, layers=2');
    expect(sortTasks(OPTUNA_TASKS, 'param:x', 'asc').map(t => t.index)).toEqual([0, 3, 1, 2]);
    expect(sortTasks(OPTUNA_TASKS, 'result:loss', 'asc').map(t => t.index)).toEqual([0, 3, 1, 2]);
    expect(bestTask(OPTUNA_TASKS, 'loss', 'min')?.index).toBe(0);
    expect(failedTasks(OPTUNA_TASKS).map(t => t.index)).toEqual([1]);
  });

  it('renders with null params: the table, the best point and the failed task', async () => {
    // react-dom has no types installed here (JupyterLab's ReactWidget wraps it): imported untyped.
    const modules = ['react-dom/client', 'react-dom/test-utils'];
    const { createRoot } = (await import(modules[0])) as {
      createRoot(host: Element): { render(node: unknown): void; unmount(): void };
    };
    const { act } = (await import(modules[1])) as { act(work: () => Promise<void>): Promise<void> };
    const React = await import('react');
    const { SweepView } = await import('../sweeps/view');
    (globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;
    const data = sweep(OPTUNA_TASKS, { search: 'optuna', space: OPTUNA_SPACE, best: OPTUNA_TASKS[0] });
    const model = new SweepModel({ id: '100', jobs: null, fetch: async () => data, initial: data, fallbackMs: 1e9 });
    const host = document.createElement('div');
    document.body.appendChild(host);
    const root = createRoot(host);
    await act(async () => {
      root.render(React.createElement(SweepView, { model }));
    });
    expect(host.querySelector('.tml-Sweep-meta')?.textContent).toContain('Optuna search of 4 points');
    const headers = Array.from(host.querySelectorAll('thead th')).map(th => th.textContent);
    expect(headers).toEqual(['#', 'state', 'x', 'loss ▲']); // sorted by the metric, lowest first
    const row = (index: number) =>
      Array.from(host.querySelectorAll(`tr[data-index="${index}"] td`)).map(td => td.textContent);
    expect(row(2)).toEqual(['2', 'pending', '', '']);
    expect(row(0)[2]).toBe('0.31');
    expect(host.querySelector('tr[data-best="true"]')?.getAttribute('data-index')).toBe('0');
    expect(host.querySelector('.tml-Sweep-best code')?.textContent).toBe('x=0.31');
    expect(host.querySelector('.tml-SweepFailed-task[data-index="1"] .tml-SweepFailed-params')?.textContent).toBe(
      'x=0.9'
    );
    await act(async () => root.unmount());
    model.dispose();
    host.remove();
  });
});

describe('SweepModel', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  function liveJobs(jobs: TritonAPI.IJob[]) {
    const channel = fakeChannel({ pingMs: 60000 });
    const model = new JobsModel({
      channel,
      auto: false,
      list: async () => ({ jobs: [], updated: 1, error: null, interval: 2, server_time: null })
    });
    channel.connect();
    const socket = FakeSocket.last!;
    socket.open();
    socket.receive({ event: 'snapshot', data: { jobs, updated: 1, error: null, interval: 2, server_time: null } });
    return { model, socket };
  }

  const running = sweep([task(0, { state: 'RUNNING' }), task(1, { state: 'PENDING', job_id: '100_1' })]);

  it('re-reads the sweep when one of its array jobs changes in the jobs model, and only then', async () => {
    const { model: jobs, socket } = liveJobs([job({ id: '100_0', array_job_id: '100', state: 'RUNNING' })]);
    const fetch = jest.fn(async () => running);
    const model = new SweepModel({ id: '100', jobs, fetch, debounceMs: 500, fallbackMs: 30000 });
    await Promise.resolve();
    await Promise.resolve();
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(model.sweep?.id).toBe('100');
    expect(model.jobsModelKnows()).toBe(true);

    // another job: nothing asked
    socket.receive({ event: 'job', data: job({ id: '7', state: 'RUNNING' }) });
    jest.advanceTimersByTime(40000);
    expect(fetch).toHaveBeenCalledTimes(1); // and no fallback poll: the jobs model knows the sweep

    // a burst of the sweep's task events: one request after the debounce
    socket.receive({ event: 'job', data: job({ id: '100_1', array_job_id: '100', state: 'RUNNING' }) });
    socket.receive({ event: 'job', data: job({ id: '100_0', array_job_id: '100', state: 'COMPLETING' }) });
    jest.advanceTimersByTime(499);
    expect(fetch).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1);
    expect(fetch).toHaveBeenCalledTimes(2);
    model.dispose();
    jobs.dispose();
  });

  it('asks again soon when its answer lags the jobs model, a few times at most', async () => {
    const { model: jobs } = liveJobs([job({ id: '100_0', array_job_id: '100', state: 'COMPLETED' })]);
    expect(staleAgainst(running, jobs)).toBe(true);
    const fetch = jest.fn(async () => running);
    const model = new SweepModel({ id: '100', jobs, fetch, recheckMs: 2500, fallbackMs: 1e9 });
    for (let i = 0; i < 10; i++) {
      await Promise.resolve();
      await Promise.resolve();
      await Promise.resolve();
      jest.advanceTimersByTime(2500);
    }
    expect(fetch).toHaveBeenCalledTimes(6); // the first read and 5 re-checks
    model.dispose();
    jobs.dispose();
  });

  it('falls back to a slow refresh only while tasks are active and the jobs model knows nothing', async () => {
    const fetch = jest.fn(async () => running);
    const model = new SweepModel({ id: '100', jobs: null, fetch, fallbackMs: 30000 });
    await Promise.resolve();
    await Promise.resolve();
    expect(fetch).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(29999);
    expect(fetch).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1);
    expect(fetch).toHaveBeenCalledTimes(2);
    model.dispose();

    const done = sweep([task(0, { result: { loss: 1 } })]);
    const finished = jest.fn(async () => done);
    const ended = new SweepModel({ id: '100', jobs: null, fetch: finished, fallbackMs: 30000 });
    await Promise.resolve();
    await Promise.resolve();
    jest.advanceTimersByTime(120000);
    expect(finished).toHaveBeenCalledTimes(1); // a finished sweep is never asked again
    ended.dispose();
  });

  it('keeps the initial snapshot and says why when the server cannot answer', async () => {
    const { APIError } = await import('../api');
    const saved = sweep([task(0, { result: { loss: 1 } })]);
    const fetch = jest.fn(async () => {
      throw new APIError('No sweep 100 of yours is known here.', 404);
    });
    const model = new SweepModel({ id: '100', jobs: null, fetch, initial: saved });
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(model.sweep).toBe(saved);
    expect(model.loaded).toBe(false);
    expect(model.error?.status).toBe(404);
    model.dispose();
  });
});
