import { TritonAPI } from '../api';
import { curveDomain, curveName, curveOf, hasCurves, pruneLabel, prunedOf, sparkline } from '../sweeps/curve';
import { SweepModel } from '../sweeps/model';
import { bestTask } from '../sweeps/table';

// The view's dialogs and notifications are not used here (apputils pulls in ES modules jest does not load).
jest.mock('@jupyterlab/apputils', () => ({ Dialog: {}, Notification: {}, showDialog: jest.fn() }));

function task(index: number, over: Partial<TritonAPI.ISweepTask> = {}): TritonAPI.ISweepTask {
  return {
    index,
    params: { lr: 0.1 },
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

/** Good tasks fall from 1 to 0.2 over steps 0-4; a bad one stays at 10 and is pruned at step 1. */
const good = task(0, {
  result: { loss: 0.2 },
  curve: {
    steps: [0, 1, 2, 3, 4],
    values: { loss: [1, 0.5, 0.33, 0.25, 0.2], lr: [0.1, 0.1, 0.1, 0.1, 0.1] },
    count: 5
  }
});
const bad = task(1, {
  result: { loss: 10 },
  pruned: { step: 1, why: 'median stopping rule' },
  curve: { steps: [0, 1], values: { loss: [10, 10] }, count: 2 }
});
const gappy = task(2, {
  curve: { steps: [0, 2, 4], values: { acc: [0.5, null, 0.9] }, count: 3 }
});

describe('sweep curves', () => {
  it('reads the curve and the pruned mark, also from snapshots that lack them', () => {
    expect(curveOf(good)?.count).toBe(5);
    expect(curveOf(task(3))).toBeNull();
    const old = { ...task(4) } as Partial<TritonAPI.ISweepTask>;
    delete old.curve;
    delete old.pruned;
    expect(curveOf(old as TritonAPI.ISweepTask)).toBeNull();
    expect(prunedOf(old as TritonAPI.ISweepTask)).toBeNull();
    expect(prunedOf(bad)).toEqual({ step: 1, why: 'median stopping rule' });
    expect(hasCurves([task(3), good])).toBe(true);
    expect(hasCurves([task(3)])).toBe(false);
  });

  it('shows the sweep metric, else the first name reported', () => {
    expect(curveName(curveOf(good)!, 'loss')).toBe('loss');
    expect(curveName(curveOf(gappy)!, 'loss')).toBe('acc');
    expect(curveName(curveOf(good)!, null)).toBe('loss');
  });

  it('puts every row on one scale: steps and values over all tasks', () => {
    // 0.2 to 10: a factor of 50, drawn on a log scale
    expect(curveDomain([good, bad, task(3)], 'loss')).toEqual({ steps: [0, 4], values: [0.2, 10], log: true });
    expect(curveDomain([good], 'loss')?.log).toBe(false); // 0.2 to 1: linear
    expect(curveDomain([task(3)], 'loss')).toBeNull();
  });

  it('draws a falling good task low and a pruned bad one flat at the top, stopping at its step', () => {
    const domain = curveDomain([good, bad], 'loss');
    const line = sparkline(good, 'loss', domain, 96, 24)!;
    // x from 2 to 94 over steps 0..4; y from 22 (0.2) up to 2 (10)
    expect(line.path.startsWith('M2.0 ')).toBe(true);
    expect(line.end).toEqual({ x: 94, y: 22 });
    expect(line.path).toContain('L25.0 17.3'); // 0.5 at step 1: a quarter up on the log scale
    expect(line.label).toBe('loss 1 → 0.2 over steps 0–4 (5 reported)');
    const stopped = sparkline(bad, 'loss', domain, 96, 24)!;
    expect(stopped.path).toBe('M2.0 2.0L25.0 2.0');
    expect(stopped.end).toEqual({ x: 25, y: 2 });
    expect(sparkline(task(3), 'loss', domain, 96, 24)).toBeNull();
  });

  it('breaks the line at missing values and marks the last known point', () => {
    const domain = curveDomain([gappy], null);
    const line = sparkline(gappy, null, domain, 96, 24)!;
    expect(line.path).toBe('M2.0 22.0M94.0 2.0');
    expect(line.end).toEqual({ x: 94, y: 2 });
    expect(line.label).toBe('acc 0.5 → 0.9 over steps 0–4 (3 reported)');
  });

  it('never takes a pruned task as the best, even with the best value', () => {
    const prunedLow = task(5, { result: { loss: 0.01 }, pruned: { step: 2, why: '' } });
    expect(bestTask([good, bad, prunedLow], 'loss', 'min')?.index).toBe(0);
  });

  it('says how the sweep prunes', () => {
    expect(pruneLabel({ rule: 'median', startup: 5, warmup: 0 }, 'optuna')).toBe(
      'pruning: median (after 5 completed trials, from step 0)'
    );
    expect(pruneLabel({ rule: 'median', startup: 2, warmup: 3 }, 'grid')).toBe(
      'pruning: median (once 2 other tasks reach a step, from step 3)'
    );
  });

  it('renders a curve per task and marks the pruned one in the results table', async () => {
    // react-dom has no types installed here (JupyterLab's ReactWidget wraps it): imported untyped.
    const modules = ['react-dom/client', 'react-dom/test-utils'];
    const { createRoot } = (await import(modules[0])) as {
      createRoot(host: Element): { render(node: unknown): void; unmount(): void };
    };
    const { act } = (await import(modules[1])) as { act(work: () => Promise<void>): Promise<void> };
    const React = await import('react');
    const { SweepView } = await import('../sweeps/view');
    (globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;
    const tasks = [good, bad, task(3)];
    const data: TritonAPI.ISweep = {
      id: '100',
      name: 'pruned',
      search: 'optuna',
      space: {},
      metric: 'loss',
      mode: 'min',
      parallel: 2,
      created_at: 0,
      total: 3,
      counts: { COMPLETED: 3 },
      finished: true,
      best: good,
      jobs: [{ id: '100', attempt: 0, tasks: 3, array: '0-2%2', directory: '/j', after: null }],
      tasks,
      slurm_error: null,
      cancelled_at: null,
      prune: { rule: 'median', startup: 2, warmup: 0 },
      pruned: 1
    };
    const model = new SweepModel({ id: '100', jobs: null, fetch: async () => data, initial: data, fallbackMs: 1e9 });
    const host = document.createElement('div');
    document.body.appendChild(host);
    const root = createRoot(host);
    await act(async () => {
      root.render(React.createElement(SweepView, { model }));
    });
    expect(host.querySelector('.tml-Sweep-meta')?.textContent).toContain(
      'pruning: median (after 2 completed trials, from step 0)'
    );
    expect(host.querySelector('.tml-SweepTable-curve')?.textContent).toBe('loss per step');
    expect(host.querySelector('[data-family="pruned"]')?.textContent).toBe('(1 pruned)');
    const curve = (index: number) => host.querySelector(`tr[data-index="${index}"] .tml-Sparkline`);
    expect(curve(0)?.getAttribute('class')).toBe('tml-Sparkline tml-Sparkline--best');
    expect(curve(1)?.getAttribute('class')).toBe('tml-Sparkline tml-Sparkline--pruned');
    expect(curve(1)?.getAttribute('aria-label')).toBe('loss 10 → 10 over steps 0–1 (2 reported); pruned at step 1');
    expect(curve(3)).toBeNull(); // no steps reported: an empty cell
    const pruned = host.querySelector('tr[data-index="1"]');
    expect(pruned?.getAttribute('data-pruned')).toBe('true');
    expect(pruned?.querySelector('.tml-SweepTable-pruned')?.textContent).toBe('pruned at step 1');
    expect(pruned?.querySelector('.tml-SweepTable-pruned')?.getAttribute('title')).toBe('median stopping rule');
    await act(async () => root.unmount());
    model.dispose();
    host.remove();
  });
});
