import { TritonAPI } from '../api';
import { spreadLines } from '../advice/spread';
import { INodeSeries, seriesFor } from '../metrics/series';
import { summaryRows } from '../metrics/summary';
import { H200_HEADER, H200_IDLE_FULL } from './h200-trace.fixture';
import { adviceMessage, highlightOf, magicOptions, reportLines, resubmitRoute } from '../advice/format';

function change(field: string, from: string | null, to: string | null, changed = true): TritonAPI.ISuggestionChange {
  return { field, from, to, changed, reason: `why ${field}`, figure: `figure ${field}` };
}

function suggestion(changes: TritonAPI.ISuggestionChange[]): TritonAPI.ISuggestion {
  return {
    id: '12',
    spec: { command: 'true', cpus_per_task: 1, mem: '512M', time: '00:05:00' } as any,
    changes,
    gpus: null,
    cpus_per_task: changes.find(c => c.field === 'cpus_per_task') ?? null,
    mem: changes.find(c => c.field === 'mem') ?? null,
    time: changes.find(c => c.field === 'time') ?? null,
    source: 'samples+sacct',
    note: null
  };
}

describe('resubmit with these settings', () => {
  const s = suggestion([
    change('cpus_per_task', '2', '1'),
    change('mem', '2G', '512M'),
    change('time', null, '00:05:00')
  ]);

  it('highlights each changed field with what it was and why', () => {
    expect(highlightOf(s)).toEqual({
      cpus_per_task: 'Was 2. why cpus_per_task',
      mem: 'Was 2G. why mem',
      time: 'Was the default. why time'
    });
  });

  it('writes the changes as %%tritonml options for a sweep cell', () => {
    expect(magicOptions(s)).toBe('--cpus 1 --mem 512M --time 00:05:00');
  });

  it('routes by where the job came from', () => {
    expect(resubmitRoute({ tracked: true, origin: { kind: 'dialog' } as any }, s)).toBe('dialog');
    expect(resubmitRoute({ tracked: true, origin: { kind: 'api' } as any }, s)).toBe('dialog');
    expect(resubmitRoute({ tracked: true, origin: { kind: 'notebook', notebook: 'a.ipynb' } as any }, s)).toBe(
      'notebook'
    );
    expect(resubmitRoute({ tracked: true, origin: { kind: 'sweep' } as any }, s)).toBe('sweep');
    expect(resubmitRoute({ tracked: true, origin: { kind: 'magic' } as any }, s)).toBe('magic');
    expect(resubmitRoute({ tracked: false, origin: null }, s)).toBe('none');
    expect(resubmitRoute({ tracked: true, origin: null }, { ...s, spec: null })).toBe('none');
  });
});

describe('live advice', () => {
  it('says the red flags, with the job', () => {
    const text = adviceMessage({
      id: '7',
      name: 'train',
      text: '',
      elapsed: 700,
      findings: [
        {
          code: 'cpu',
          level: 'red',
          text: 'Used about 1 of 8 requested CPU cores (12%): ask for --cpus-per-task=1.',
          field: 'cpus_per_task',
          to: '1',
          figure: ''
        },
        {
          code: 'gpu-memory',
          level: 'low',
          text: 'The GPU memory peaked at 2 GB of 80 GB.',
          field: null,
          to: null,
          figure: ''
        }
      ]
    });
    expect(text).toBe('Job 7 “train”: Used about 1 of 8 requested CPU cores (12%): ask for --cpus-per-task=1.');
  });
});

describe('my efficiency report', () => {
  const report: TritonAPI.IUsageReport = {
    days: 30,
    since: 0,
    until: 30 * 86400,
    jobs: 12,
    gpu_jobs: 3,
    gpu_hours_requested: 40,
    gpu_hours_measured: 20,
    gpu_hours_used: 5,
    cpu_hours_allocated: 100,
    cpu_hours_used: 25,
    memory_gb_hours_requested: 400,
    memory_gb_hours_used: 40,
    time_hours_requested: 60,
    time_hours_used: 6,
    over_memory_jobs: 9,
    over_time_jobs: 8,
    top: [],
    cached_at: 0
  };

  it('lists requested against used', () => {
    const lines = Object.fromEntries(reportLines(report).map(l => [l.key, `${l.value} | ${l.note}`]));
    expect(lines.jobs).toBe('12 | 3 with GPUs');
    expect(lines.gpu).toBe('5.0 used of 40.0 | 25% of the 20.0 measured');
    expect(lines.cpu).toBe('25.0 used of 100 | 25%');
    expect(lines.memory).toBe('40.0 of 400 | 10% · 9 jobs asked for much more');
    expect(lines.time).toBe('6.0 h of 60.0 h | 10% · 8 jobs asked for much more');
  });

  it('says when no GPU utilisation was measured, and leaves GPUs out for CPU-only users', () => {
    const none = reportLines({ ...report, gpu_hours_used: null, gpu_hours_measured: 0 }).find(l => l.key === 'gpu')!;
    expect(none.value).toBe('– used of 40.0');
    expect(none.note).toContain('no utilisation figures');
    expect(reportLines({ ...report, gpu_jobs: 0 }).map(l => l.key)).toEqual(['jobs', 'cpu', 'memory', 'time']);
  });
});

describe('per GPU, on the real H200 trace', () => {
  // A 2-GPU job put together from the recorded rows: GPU 0 did what the card did under full load,
  // GPU 1 what it did while idle, sample by sample.
  const busy = H200_IDLE_FULL.filter(x => (x.g?.[0]?.[0] ?? 0) >= 90);
  const idle = H200_IDLE_FULL.filter(x => x.g?.[0]?.[0] === 0);
  const n = Math.min(busy.length, idle.length);
  const card = H200_HEADER.gpus![0];
  const header = { ...H200_HEADER, gpus: [card, { ...card, i: 1, uuid: `${card.uuid}-1` }] };
  const samples = busy.slice(0, n).map((b, k) => ({ ...b, g: [b.g![0], idle[k].g![0]] }));
  const nodes: INodeSeries[] = [{ node: 'gpu1', header, samples, ended: true }];

  it('draws each GPU, so the idle one is seen', () => {
    const util = seriesFor('util', nodes);
    expect(util.series.map(s => s.label)).toEqual(['GPU 0 · NVIDIA H200', 'GPU 1 · NVIDIA H200']);
    expect(Math.min(...(util.series[0].v as number[]))).toBeGreaterThanOrEqual(90);
    expect(Math.max(...(util.series[1].v as number[]))).toBe(0);
  });

  it('lists each GPU in the summary, the idle one marked', () => {
    const gpu = (index: number, util: number, idleShare: number) => ({
      node: 'gpu1',
      index,
      name: 'NVIDIA H200',
      util_mean: util,
      util_max: util,
      idle_fraction: idleShare,
      memory_peak_bytes: null,
      memory_total_bytes: null
    });
    const rows = summaryRows({
      efficiency: null,
      metrics: { gpus: [gpu(0, 99, 0), gpu(1, 0, 1)], nodes: {}, seconds: n } as any
    });
    const util = rows.filter(r => r.key.startsWith('gpu-util'));
    expect(util.map(r => [r.label, r.value, r.warn])).toEqual([
      ['GPU 0 utilisation', '99%', false],
      ['GPU 1 utilisation', '0%', true]
    ]);
    expect(util[1].note).toContain('idle 100% of the time');
  });
});

describe('the spread over an array', () => {
  it('names the median, the worst and its task', () => {
    const lines = spreadLines({
      id: '5',
      tasks: 4,
      gpu_util: { median: 72, worst: 0, worst_task: '5_3' },
      memory_peak: { median: 700 * 1024 * 1024, worst: 2 * 1024 ** 3, worst_task: '5_1' },
      gpu_memory_peak: { median: null, worst: null, worst_task: null },
      elapsed: { median: 60, worst: 600, worst_task: '5_2' },
      outliers: []
    });
    expect(lines.map(l => l.key)).toEqual(['gpu', 'memory', 'time']);
    expect(lines[0].value).toBe('median 72%, lowest 0% (task 3)');
    expect(lines[1].value).toContain('(task 1)');
    expect(lines[2].value).toContain('(task 2)');
  });
});
