import { TritonAPI } from '../api';
import { MetricsCharts } from '../metrics/chart';
import { formatClock, linearScale, linePath, nearestIndex, niceStep, timeTicks, valueAxis } from '../metrics/axes';
import { applyHistory, expandSample, INodeSeries, mergeSamples, seriesFor } from '../metrics/series';
import { summaryRows } from '../metrics/summary';
import { MetricsWatcher } from '../metrics/watcher';
import { H200_HALF, H200_HEADER, H200_IDLE_FULL } from './h200-trace.fixture';
import { fakeChannel, FakeSocket } from './jobs.fixture';

const CPU_HEADER: TritonAPI.IMetricsHeader = { src: 'none', iv: 1, gpus: [], cores: 2 };

function cpuSamples(t0: number, n: number): TritonAPI.IMetricsSample[] {
  return Array.from({ length: n }, (_, i) => ({ t: t0 + i, c: 0.5 + (i % 3) / 10, r: 100 + i }));
}

describe('sample expansion', () => {
  it('names the compact columns of a real H200 sample', () => {
    const full = H200_IDLE_FULL.find(s => (s.g?.[0]?.[0] ?? 0) >= 99)!;
    const e = expandSample(full, H200_HEADER);
    expect(e.gpus).toHaveLength(1);
    expect(e.gpus[0].name).toBe('NVIDIA H200');
    expect(e.gpus[0].util).toBeGreaterThanOrEqual(99);
    expect(e.gpus[0].utilMax).toBe(e.gpus[0].util);
    expect(e.gpus[0].memMib).toBe(18009);
    expect(e.gpus[0].memTotalMib).toBe(143771);
    expect(e.gpus[0].powerW).toBeGreaterThan(600);
    expect(e.gpus[0].tempC).toBeGreaterThan(40);
    expect(e.gpus[0].smMhz).toBeGreaterThan(1000);
    expect(e.cpu).toBeGreaterThan(0.5);
    expect(e.rssMib).toBeCloseTo(710.9);
    expect(e.seconds).toBe(1);
  });

  it('reads downsampled rows (6th column = util max, d, cx) and nulls', () => {
    const e = expandSample(
      {
        t: 60,
        d: 60,
        n: 60,
        g: [
          [40, 1000, 300, 50, 1500, 95],
          [null, null, null, null, null]
        ],
        c: 1.5,
        cx: 3,
        r: 10
      },
      H200_HEADER
    );
    expect(e.seconds).toBe(60);
    expect(e.gpus[0].util).toBe(40);
    expect(e.gpus[0].utilMax).toBe(95);
    expect(e.gpus[1].util).toBeNull();
    expect(e.gpus[1].index).toBe(1);
    expect(e.cpuMax).toBe(3);
    const none = expandSample({ t: 1, c: null }, CPU_HEADER);
    expect(none.gpus).toEqual([]);
    expect(none.cpu).toBeNull();
    expect(none.rssMib).toBeNull();
  });
});

describe('merging and bounding series', () => {
  it('appends live samples, dedupes by t and keeps them sorted', () => {
    const a = H200_IDLE_FULL.slice(0, 20);
    const b = H200_IDLE_FULL.slice(15); // overlaps 5 samples
    const merged = mergeSamples(a, b);
    expect(merged).toHaveLength(H200_IDLE_FULL.length);
    expect(merged.map(s => s.t)).toEqual(H200_IDLE_FULL.map(s => s.t));
    // Out of order and duplicated input.
    const shuffled = mergeSamples([], [...H200_HALF].reverse().concat(H200_HALF.slice(0, 3)));
    expect(shuffled.map(s => s.t)).toEqual(H200_HALF.map(s => s.t));
    // The fast path keeps order too.
    expect(mergeSamples(H200_IDLE_FULL, H200_HALF).map(s => s.t)).toEqual(
      [...H200_IDLE_FULL, ...H200_HALF].map(s => s.t)
    );
  });

  it('keeps at most an hour at 1 Hz (the newest points)', () => {
    let series: TritonAPI.IMetricsSample[] = [];
    for (let k = 0; k < 40; k++) {
      series = mergeSamples(series, cpuSamples(k * 100, 100));
    }
    expect(series).toHaveLength(3600);
    expect(series[0].t).toBe(400);
    expect(series[series.length - 1].t).toBe(3999);
    expect(mergeSamples(series, [], 10)).toHaveLength(10);
  });

  it('lets a (downsampled) history replace what it covers and keeps newer live points', () => {
    const live = cpuSamples(100, 30); // 100..129
    const history = [
      { t: 60, d: 60, n: 60, c: 1, cx: 2, r: 5 },
      { t: 120, d: 5, n: 5, c: 1, cx: 1, r: 6 }
    ];
    const merged = applyHistory(live, history);
    expect(merged.map(s => s.t)).toEqual([60, 120, 125, 126, 127, 128, 129]);
    expect(applyHistory(live, [])).toBe(live);
  });
});

describe('scales and axes', () => {
  it('maps linearly', () => {
    const x = linearScale(0, 10, 100, 200);
    expect(x(0)).toBe(100);
    expect(x(5)).toBe(150);
    expect(linearScale(0, 100, 90, 10)(100)).toBe(10);
    expect(linearScale(5, 5, 0, 10)(5)).toBe(0);
  });

  it('picks nice steps and axes from zero', () => {
    expect(niceStep(100, 4)).toBe(25);
    expect(niceStep(7, 4)).toBe(2);
    expect(niceStep(0, 4)).toBe(1);
    expect(valueAxis(0, 140.4)).toEqual({ min: 0, max: 150, ticks: [0, 50, 100, 150] });
    const small = valueAxis(0, 0.69);
    expect(small.max).toBeCloseTo(0.8);
    expect(small.ticks.length).toBeGreaterThanOrEqual(3);
    expect(valueAxis(0, 0).max).toBe(1);
  });

  it('puts time ticks on round clock times', () => {
    const { step, ticks } = timeTicks(1000003, 1000003 + 3600, 4);
    expect(step).toBe(900);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    for (const t of ticks) {
      expect((((t - new Date(t * 1000).getTimezoneOffset() * -60) % 900) + 900) % 900).toBe(0);
    }
    expect(timeTicks(0, 60, 4).step).toBe(15);
    expect(formatClock(ticks[0], 900)).toMatch(/^\d\d:\d\d$/);
    expect(formatClock(ticks[0], 10)).toMatch(/^\d\d:\d\d:\d\d$/);
  });

  it('finds the nearest sample', () => {
    const ts = [1, 2, 4, 8];
    expect(nearestIndex(ts, 0)).toBe(0);
    expect(nearestIndex(ts, 2.9)).toBe(1);
    expect(nearestIndex(ts, 3.1)).toBe(2);
    expect(nearestIndex(ts, 100)).toBe(3);
    expect(nearestIndex([], 1)).toBe(-1);
  });

  it('draws lines with breaks at nulls and gaps, and folds dense points per pixel', () => {
    const x = (t: number) => t;
    const y = (v: number) => 100 - v;
    const path = linePath({ t: [0, 1, 2, 10, 11], v: [1, 2, null, 3, 4], gaps: [3, 3, 3, 3, 3] }, x, y);
    expect(path.match(/M/g)).toHaveLength(2);
    const dense = linePath(
      {
        t: Array.from({ length: 1000 }, (_, i) => i / 100),
        v: Array.from({ length: 1000 }, (_, i) => (i === 500 ? 90 : 10)),
        gaps: new Array(1000).fill(3)
      },
      x,
      y
    );
    // 10 px wide: about 20 columns, and the spike at 90 survives.
    expect(dense.split(/[ML]/).length).toBeLessThan(100);
    expect(dense).toContain(' 10.0');
  });
});

describe('chart series from the real H200 trace', () => {
  const nodes: INodeSeries[] = [
    { node: 'gpu1', header: H200_HEADER, samples: mergeSamples(H200_IDLE_FULL, H200_HALF), ended: false }
  ];

  it('gives one line per GPU, in GiB for memory, with the card as reference', () => {
    const util = seriesFor('util', nodes);
    expect(util.series).toHaveLength(1);
    expect(util.series[0].label).toBe('GPU 0 · NVIDIA H200');
    expect(Math.max(...(util.series[0].v as number[]))).toBe(100);
    const memory = seriesFor('memory', nodes);
    expect(Math.max(...(memory.series[0].v as number[]))).toBeCloseTo(18009 / 1024);
    expect(memory.references[0].value).toBeCloseTo(143771 / 1024);
    expect(seriesFor('power', nodes).references[0].value).toBe(700);
    const cpu = seriesFor('cpu', nodes);
    expect(cpu.series[0].label).toBe('gpu1');
    expect(cpu.series[0].v).toHaveLength(48);
  });
});

describe('MetricsCharts in jsdom', () => {
  it('renders the H200 trace: five charts, GPU lines up to ~100 %, a legend, a tooltip', () => {
    const charts = new MetricsCharts();
    document.body.appendChild(charts.node);
    charts.setData([
      { node: 'gpu1', header: H200_HEADER, samples: mergeSamples(H200_IDLE_FULL, H200_HALF), ended: false }
    ]);
    charts.render();
    const kinds = Array.from(charts.node.querySelectorAll('.tml-MetricsChart')).map(
      el => (el as HTMLElement).dataset.metric
    );
    expect(kinds).toEqual(['util', 'memory', 'power', 'cpu', 'ram']);
    const util = charts.node.querySelector('.tml-MetricsChart[data-metric="util"] path.tml-MetricsChart-line')!;
    expect(util.getAttribute('data-series')).toBe('gpu1/0');
    expect(Number(util.getAttribute('data-points'))).toBe(48);
    expect(Number(util.getAttribute('data-max'))).toBeGreaterThanOrEqual(99);
    expect(util.getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+L/);
    // The axis says percent, 0..100.
    const labels = Array.from(
      charts.node.querySelectorAll('.tml-MetricsChart[data-metric="util"] .tml-MetricsChart-grid text')
    ).map(t => t.textContent);
    expect(labels).toEqual(['0', '25', '50', '75', '100']);
    expect(charts.node.querySelector('.tml-MetricsChart[data-metric="util"] .tml-MetricsChart-unit')!.textContent).toBe(
      '%'
    );
    expect(charts.node.querySelector('.tml-MetricsChart[data-metric="memory"] .tml-MetricsChart-ref')).not.toBeNull();
    expect(charts.node.querySelector('.tml-Metrics-legend')!.textContent).toContain('NVIDIA H200');
    // Hover: the tooltip shows the values at that time.
    const body = charts.node.querySelector(
      '.tml-MetricsChart[data-metric="util"] .tml-MetricsChart-body'
    ) as HTMLElement;
    body.dispatchEvent(new MouseEvent('mousemove', { clientX: 200, bubbles: true }));
    const tooltip = body.querySelector('.tml-MetricsChart-tooltip') as HTMLElement;
    expect(tooltip.hidden).toBe(false);
    expect(tooltip.textContent).toMatch(/GPU 0 · NVIDIA H200\d+%/);
    body.dispatchEvent(new MouseEvent('mouseleave'));
    expect(tooltip.hidden).toBe(true);
    charts.dispose();
    expect(charts.node.isConnected).toBe(false);
  });

  it('shows CPU and RAM only without GPUs, and redraws once per frame', async () => {
    // JupyterLab's jest shim has an IntersectionObserver that never reports: count as visible.
    const observer = (window as any).IntersectionObserver;
    delete (window as any).IntersectionObserver;
    const charts = new MetricsCharts({ compact: true, emptyText: 'no samples' });
    (window as any).IntersectionObserver = observer;
    document.body.appendChild(charts.node);
    charts.render();
    expect((charts.node.querySelector('.tml-Metrics-empty') as HTMLElement).textContent).toBe('no samples');
    const node: INodeSeries = { node: 'csl1', header: CPU_HEADER, samples: cpuSamples(1000, 5), ended: false };
    const spy = jest.spyOn(charts, 'render');
    charts.setData([node]);
    charts.setData([{ ...node, samples: cpuSamples(1000, 6) }]);
    charts.setData([{ ...node, samples: cpuSamples(1000, 7) }]);
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(spy).toHaveBeenCalledTimes(1);
    const kinds = Array.from(charts.node.querySelectorAll('.tml-MetricsChart')).map(
      el => (el as HTMLElement).dataset.metric
    );
    expect(kinds).toEqual(['cpu', 'ram']);
    expect(charts.node.querySelector('path.tml-MetricsChart-line')!.getAttribute('data-points')).toBe('7');
    charts.dispose();
  });
});

describe('after-the-job summary', () => {
  it('lists GPU utilisation and memory vs the card, CPU, memory and time', () => {
    const rows = summaryRows(
      {
        efficiency: {
          complete: true,
          state: 'COMPLETED',
          elapsed_seconds: 600,
          time_limit_seconds: 3600,
          cpus: 4,
          cpu_used_seconds: 600,
          cpu_allocated_seconds: 2400,
          memory_requested_bytes: 8 * 2 ** 30,
          memory_peak_bytes: 2 ** 30,
          gpus: 'h200:1',
          gpu_count: 1,
          gpu_util_mean: null,
          gpu_util_max: null,
          gpu_memory_peak_bytes: null,
          cpu_efficiency: 0.25,
          time_fraction: 600 / 3600,
          memory_fraction: 0.125
        },
        metrics: {
          source: 'nvml',
          seconds: 600,
          gpus: [
            {
              node: 'gpu1',
              index: 0,
              name: 'NVIDIA H200',
              util_mean: 40,
              util_max: 100,
              idle_fraction: 0.6,
              memory_peak_bytes: 18009 * 2 ** 20,
              memory_total_bytes: 143771 * 2 ** 20
            }
          ],
          cpu_cores_mean: 1,
          rss_peak_bytes: 2 ** 30
        }
      },
      { slurm: true }
    );
    const byKey: { [key: string]: (typeof rows)[0] } = {};
    rows.forEach(r => (byKey[r.key] = r));
    expect(byKey['gpu-util-gpu1-0'].value).toBe('40%');
    expect(byKey['gpu-util-gpu1-0'].warn).toBe(true);
    expect(byKey['gpu-util-gpu1-0'].note).toContain('max 100%');
    expect(byKey['gpu-util-gpu1-0'].note).toContain('idle 60%');
    expect(byKey['gpu-mem-gpu1-0'].note).toBe('18 GiB of 140 GiB on the card');
    expect(byKey.cpu.value).toBe('25%');
    expect(byKey['cpu-cores'].note).toBe('mean, of 4 allocated');
    expect(byKey.memory.note).toBe('1 GiB of 8 GiB requested');
    expect(byKey.time.value).toBe('17%');
    expect(summaryRows(null)).toEqual([]);
  });

  it("shows Slurm's GPU TRES (no samples of the GPU) as the peak without a card", () => {
    // The shape GET jobs/{id} gives when the figures come from gres/gpuutil and gres/gpumem.
    const rows = summaryRows({
      efficiency: null,
      metrics: {
        source: null,
        seconds: 3600,
        gpu_source: 'sacct',
        gpus: [
          {
            node: null as unknown as string,
            index: null as unknown as number,
            name: 'Slurm accounting (gres/gpuutil, gres/gpumem)',
            util_mean: 14,
            util_max: 100,
            idle_fraction: null,
            memory_peak_bytes: 10 * 2 ** 30,
            memory_total_bytes: null
          }
        ],
        cpu_cores_mean: null,
        rss_peak_bytes: null
      }
    });
    expect(rows.map(r => r.label)).toEqual(['GPU utilisation', 'GPU memory peak']);
    expect(rows[0].value).toBe('14%');
    expect(rows[0].note).toContain('Slurm accounting');
    expect(rows[1].value).toBe('10 GiB');
    expect(rows[1].note).toBe('per task, from Slurm accounting');
    expect(rows[1].fraction).toBeNull();
  });
});

describe('MetricsWatcher', () => {
  afterEach(() => jest.useRealTimers());

  it('is ref-counted per job, merges history and live samples, and re-watches after a reconnect', () => {
    jest.useFakeTimers();
    const sockets: FakeSocket[] = [];
    const fetched: string[] = [];
    const channel = fakeChannel({
      socketFactory: () => {
        const socket = new FakeSocket();
        sockets.push(socket);
        return socket;
      },
      reconnectMinMs: 1000
    });
    const watcher = new MetricsWatcher({
      channel,
      pollMs: 3000,
      fetch: async id => {
        fetched.push(id);
        return { id, nodes: { gpu1: { header: H200_HEADER, samples: H200_HALF, ended: false } }, error: null };
      }
    });
    channel.connect();
    // Watched before the socket is open: sent on open.
    const a = watcher.watch('42');
    const b = watcher.watch('42');
    expect(watcher.watchers.get('42')).toBe(2);
    sockets[0].open();
    expect(sockets[0].actions()).toEqual(['watch-metrics 42']);

    let changes = 0;
    a.changed.connect(() => changes++);
    sockets[0].receive({
      event: 'metrics-history',
      data: { id: '42', nodes: { gpu1: { header: H200_HEADER, samples: H200_IDLE_FULL.slice(0, 20), ended: false } } }
    });
    sockets[0].receive({
      event: 'metrics',
      data: { id: '42', node: 'gpu1', header: H200_HEADER, samples: H200_IDLE_FULL.slice(18) }
    });
    // Another job's samples are not ours.
    sockets[0].receive({ event: 'metrics', data: { id: '7', node: 'gpu1', header: H200_HEADER, samples: H200_HALF } });
    expect(changes).toBe(2);
    expect(a.loaded).toBe(true);
    expect(b.nodes[0].samples.map(s => s.t)).toEqual(H200_IDLE_FULL.map(s => s.t));
    expect(b.nodes[0].header?.gpus[0].name).toBe('NVIDIA H200');

    // One watcher leaves: nothing sent; the last one leaves: unwatch.
    a.dispose();
    a.dispose();
    expect(sockets[0].actions()).toEqual(['watch-metrics 42']);
    const c = watcher.watch('43');
    expect(sockets[0].actions()).toEqual(['watch-metrics 42', 'watch-metrics 43']);
    b.dispose();
    expect(sockets[0].actions()).toEqual(['watch-metrics 42', 'watch-metrics 43', 'unwatch-metrics 42']);
    expect([...watcher.watchers.keys()]).toEqual(['43']);

    // The socket drops: poll GET jobs/{id}/metrics meanwhile; re-watch when it is back.
    sockets[0].close();
    expect(channel.state).toBe('closed');
    jest.advanceTimersByTime(3000); // the reconnect (1 s ± jitter) is still connecting
    expect(fetched).toEqual(['43']);
    expect(sockets).toHaveLength(2);
    sockets[1].open();
    expect(sockets[1].actions()).toEqual(['watch-metrics 43']);
    jest.advanceTimersByTime(10000);
    expect(fetched).toEqual(['43']);
    c.dispose();
    expect(sockets[1].actions()).toEqual(['watch-metrics 43', 'unwatch-metrics 43']);
    watcher.dispose();
    channel.dispose();
    jest.useRealTimers();
  });

  it('polls at once when watching while the socket is down, and applies the answer', async () => {
    const channel = fakeChannel({
      socketFactory: () => {
        throw new Error('no sockets here');
      }
    });
    const watcher = new MetricsWatcher({
      channel,
      fetch: async id => ({
        id,
        nodes: { csl1: { header: CPU_HEADER, samples: cpuSamples(10, 4), ended: true } },
        error: null
      })
    });
    channel.connect();
    expect(channel.state).toBe('closed');
    const stream = watcher.watch('5');
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(stream.loaded).toBe(true);
    expect(stream.nodes[0].node).toBe('csl1');
    expect(stream.nodes[0].ended).toBe(true);
    expect(stream.nodes[0].samples).toHaveLength(4);
    stream.dispose();
    watcher.dispose();
    channel.dispose();
  });
});
