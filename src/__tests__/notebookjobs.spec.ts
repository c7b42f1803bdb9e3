import { TritonAPI } from '../api';
import { EventsChannel } from '../events/channel';
import { EMPTY_FORM } from '../jobs/spec';
import { JobsModel } from '../jobs/model';
import {
  describeParameters,
  paramFields,
  parametersFromFields,
  parseLiteral,
  pythonType
} from '../notebookjobs/params';
import {
  applyPreset,
  choosePartition,
  describeResources,
  formFromRemembered,
  matchPreset,
  PRESETS,
  rememberedOf,
  requestFromForm,
  timeMinutes
} from '../notebookjobs/presets';
import { NotebookProgressStore } from '../notebookjobs/store';
import {
  bannerText,
  cellFraction,
  cellProgress,
  endMessage,
  isNotebookJob,
  normalizePath,
  stripAnsi
} from '../notebookjobs/text';
import { job as baseJob } from './jobs.fixture';

function partition(over: Partial<TritonAPI.IPartition>): TritonAPI.IPartition {
  return {
    name: 'p',
    default: false,
    time_limit: null,
    time_limit_minutes: 5 * 24 * 60,
    nodes: ['n1'],
    node_count: 1,
    state: 'up',
    cpus_total: 8,
    cpus_idle: 8,
    gpus: [],
    ...over
  };
}

/** The local cluster's partitions (dev/cluster), as GET cluster describes them. */
const CLUSTER: TritonAPI.IClusterSummary = {
  cluster: 'local',
  slurm_version: '22.05.8',
  partitions: [
    partition({ name: 'gpu-h100-80g', gpus: [{ type: 'h100', total: 2, free: 2 }] }),
    partition({ name: 'gpu-a100-80g', gpus: [{ type: 'a100', total: 2, free: 2 }] }),
    partition({
      name: 'gpu-debug',
      time_limit_minutes: 30,
      gpus: [
        { type: 'h100', total: 2, free: 2 },
        { type: 'a100', total: 2, free: 2 }
      ]
    }),
    partition({ name: 'batch-csl', default: true }),
    partition({ name: 'interactive' })
  ],
  gpus: [],
  gpus_total: 8,
  gpus_free: 8,
  job_defaults: { partition: null, time: '01:00:00', cpus_per_task: null, mem: null }
};

/** A running notebook job (the shared job fixture with this suite's defaults). */
function notebookJob(over: Partial<TritonAPI.IJob>): TritonAPI.IJob {
  return baseJob({
    id: '42',
    name: 'analysis',
    state: 'RUNNING',
    partition: 'gpu-h100-80g',
    nodes: 'gpu1',
    node_count: 1,
    gpus: 'h100:1',
    cpus: 4,
    submitted: 1,
    started: 2,
    elapsed: 10,
    origin: { kind: 'notebook', notebook: 'work/analysis.ipynb', cell_id: null, kernel: 'python3' },
    ...over
  });
}

function status(over: Partial<TritonAPI.INotebookJobStatus>): TritonAPI.INotebookJobStatus {
  return {
    id: '42',
    state: 'RUNNING',
    status: 'running',
    notebook: 'work/analysis.ipynb',
    kernel: 'python3',
    parameters: {},
    output: 'work/analysis.42.ipynb',
    output_path: '/root/work/analysis.42.ipynb',
    output_exists: true,
    cells_total: 12,
    cells_done: 2,
    executing: { index: 4, number: 3, started_at: null, output_tail: 'epoch 1\n' },
    failed_cell: null,
    message: null,
    host: 'gpu1',
    started_at: 2,
    first_cell_at: 3,
    updated_at: 4,
    ended_at: null,
    directory: '/jobs/job-42',
    ...over
  };
}

describe('parameter values', () => {
  it('reads JSON literals', () => {
    expect(parseLiteral('5')).toEqual({ ok: true, value: 5 });
    expect(parseLiteral(' 0.25 ')).toEqual({ ok: true, value: 0.25 });
    expect(parseLiteral('"text"')).toEqual({ ok: true, value: 'text' });
    expect(parseLiteral('[1, 2]')).toEqual({ ok: true, value: [1, 2] });
    expect(parseLiteral('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseLiteral('null')).toEqual({ ok: true, value: null });
    expect(parseLiteral('true')).toEqual({ ok: true, value: true });
  });

  it("accepts Python's True, False, None and single-quoted strings", () => {
    expect(parseLiteral('True')).toEqual({ ok: true, value: true });
    expect(parseLiteral('False')).toEqual({ ok: true, value: false });
    expect(parseLiteral('None')).toEqual({ ok: true, value: null });
    expect(parseLiteral("'it\\'s \"x\"'")).toEqual({ ok: true, value: 'it\'s "x"' });
  });

  it('says what is wrong with a value that is not JSON', () => {
    const bare = parseLiteral('resnet50');
    expect(bare.ok).toBe(false);
    expect(!bare.ok && bare.error).toContain('"resnet50"');
    const broken = parseLiteral('[1, 2');
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.error).toContain('not a JSON value');
    expect(parseLiteral('  ').ok).toBe(false);
  });

  it('names JSON values in Python words', () => {
    expect([1, 1.5, 'a', true, null, [], {}].map(pythonType)).toEqual([
      'int',
      'float',
      'str',
      'bool',
      'None',
      'list',
      'dict'
    ]);
  });
});

describe('the parameters form', () => {
  const parameters: TritonAPI.INotebookParameter[] = [
    { name: 'n', default: 3, literal: true, source: '3', type: 'int', help: 'how many' },
    { name: 'lr', default: 0.1, literal: true, source: '0.1', type: 'float', help: null },
    { name: 'model', default: 'resnet', literal: true, source: "'resnet'", type: 'str', help: null },
    { name: 'paths', default: null, literal: false, source: 'glob("*.csv")', type: null, help: null }
  ];

  it('starts from the defaults as JSON (empty for an expression)', () => {
    const fields = paramFields(parameters);
    expect(fields.map(f => f.text)).toEqual(['3', '0.1', '"resnet"', '']);
    expect(fields[0].help).toBe('how many');
    expect(fields[3].literal).toBe(false);
  });

  it('sends only the values that differ from the defaults', () => {
    const fields = paramFields(parameters);
    expect(parametersFromFields(fields)).toEqual({ parameters: {}, errors: {}, notes: {} });
    const edited = fields.map(f =>
      f.name === 'n' ? { ...f, text: '5' } : f.name === 'paths' ? { ...f, text: '["a.csv"]' } : f
    );
    expect(parametersFromFields(edited).parameters).toEqual({ n: 5, paths: ['a.csv'] });
    // The same value written differently is no change.
    const spaced = fields.map(f => (f.name === 'lr' ? { ...f, text: ' 0.10 ' } : f));
    expect(parametersFromFields(spaced).parameters).toEqual({});
  });

  it('marks values that cannot be read, and notes a different type without blocking', () => {
    const fields = paramFields(parameters).map(f =>
      f.name === 'n'
        ? { ...f, text: 'five' }
        : f.name === 'model'
          ? { ...f, text: '7' }
          : f.name === 'lr'
            ? { ...f, text: '1' }
            : f
    );
    const result = parametersFromFields(fields);
    expect(Object.keys(result.errors)).toEqual(['n']);
    expect(result.parameters).toEqual({ model: 7, lr: 1 });
    expect(result.notes).toEqual({ model: 'the default is str; this is int' }); // an int for a float is fine
  });

  it('describes the values for a notification', () => {
    expect(describeParameters({ n: 5, name: 'x' })).toBe('n=5, name="x"');
    expect(describeParameters({ long: 'y'.repeat(100) }, 20)).toHaveLength(20);
  });
});

describe('resource presets', () => {
  it('reads Slurm time limits', () => {
    expect(timeMinutes('01:00:00')).toBe(60);
    expect(timeMinutes('00:30:00')).toBe(30);
    expect(timeMinutes('30')).toBe(30);
    expect(timeMinutes('2-12:00:00')).toBe(3600);
    expect(timeMinutes('1-0')).toBe(1440);
    expect(timeMinutes('soon')).toBeNull();
  });

  it('has the presets people expect', () => {
    expect(PRESETS.map(p => p.label)).toEqual(['1 GPU · 1 h', '1 GPU · 4 h', '2 GPUs · 12 h', 'CPU · 30 min']);
  });

  it('picks a partition that can give the GPUs and the time', () => {
    // The default partition has no GPUs: the first GPU partition, not the 30-minute debug one.
    expect(choosePartition(CLUSTER, '', 1, 60)).toBe('gpu-a100-80g');
    // ... and one whose GPUs are free now before one whose are all taken.
    const busy = {
      ...CLUSTER,
      partitions: CLUSTER.partitions.map(p =>
        p.name === 'gpu-a100-80g' ? { ...p, gpus: [{ type: 'a100', total: 2, free: 0 }] } : p
      )
    };
    expect(choosePartition(busy, '', 1, 60)).toBe('gpu-h100-80g');
    // A chosen GPU partition that fits is kept.
    expect(choosePartition(CLUSTER, 'gpu-a100-80g', 1, 240)).toBe('gpu-a100-80g');
    // The debug partition fits 20 minutes but not an hour.
    expect(choosePartition(CLUSTER, 'gpu-debug', 1, 20)).toBe('gpu-debug');
    expect(choosePartition(CLUSTER, 'gpu-debug', 1, 60)).toBe('gpu-a100-80g');
    // CPU: the cluster's default partition (left empty, as Slurm's default) when it has no GPUs.
    expect(choosePartition(CLUSTER, 'gpu-h100-80g', 0, 30)).toBe('');
    expect(choosePartition(CLUSTER, 'batch-csl', 0, 30)).toBe('batch-csl');
    // More GPUs than any partition: the current choice stays (Slurm will say why not).
    expect(choosePartition(CLUSTER, 'gpu-a100-80g', 4, 60)).toBe('gpu-a100-80g');
    // Without the cluster summary nothing is guessed.
    expect(choosePartition(null, 'x', 1, 60)).toBe('x');
  });

  it('applies a preset and recognises it until the fields change', () => {
    const gpu = applyPreset({ ...EMPTY_FORM, mem: '8G' }, PRESETS[0], CLUSTER);
    expect(gpu).toMatchObject({ partition: 'gpu-a100-80g', gpuCount: '1', cpus: '4', time: '01:00:00', mem: '8G' });
    expect(matchPreset(gpu)?.id).toBe('gpu-1h');
    expect(matchPreset({ ...gpu, time: '1:00:00' })?.id).toBe('gpu-1h');
    expect(matchPreset({ ...gpu, cpus: '6' })).toBeNull();
    const cpu = applyPreset(gpu, PRESETS[3], CLUSTER);
    expect(cpu).toMatchObject({ partition: '', gpuCount: '0', gpuType: '', cpus: '2', time: '00:30:00' });
    expect(matchPreset(cpu)?.id).toBe('cpu-30m');
    expect(describeResources({ ...cpu, partition: 'batch-csl' })).toBe('CPU · 2 CPUs · 8G · 30 min · batch-csl');
    expect(describeResources({ ...gpu, gpuType: 'a100' })).toBe('1 GPU (a100) · 4 CPUs · 8G · 1 h · gpu-a100-80g');
  });

  it('remembers the resources only, and ignores junk', () => {
    const form = { ...applyPreset({ ...EMPTY_FORM }, PRESETS[1], CLUSTER), command: 'never remembered' };
    const saved = rememberedOf(form);
    expect(Object.keys(saved).sort()).toEqual(['cpus', 'gpuCount', 'gpuType', 'mem', 'modules', 'partition', 'time']);
    expect(formFromRemembered(JSON.parse(JSON.stringify(saved)))).toMatchObject(saved);
    expect(formFromRemembered(null)).toBeNull();
    expect(formFromRemembered({ partition: 3 })).toBeNull();
  });

  it('builds the POST notebook-jobs request', () => {
    const form = { ...applyPreset({ ...EMPTY_FORM }, PRESETS[3], CLUSTER), partition: 'batch-csl', modules: 'a b' };
    const { request, errors } = requestFromForm(form, 'work/a.ipynb', { parameters: { n: 5 }, outputDir: ' out ' });
    expect(errors).toEqual({});
    expect(request).toEqual({
      path: 'work/a.ipynb',
      partition: 'batch-csl',
      cpus_per_task: 2,
      time: '00:30:00',
      modules: ['a', 'b'],
      parameters: { n: 5 },
      output_dir: 'out'
    });
    const gpu = requestFromForm({ ...form, gpuCount: '2', gpuType: 'a100', cpus: 'x' }, 'a.ipynb', { kernel: 'py' });
    expect(gpu.request.gpus).toBe('a100:2');
    expect(gpu.request.kernel).toBe('py');
    expect(gpu.request.parameters).toBeUndefined();
    expect(gpu.errors).toEqual({ cpus_per_task: 'give a whole number' });
  });
});

describe('progress text', () => {
  it('knows notebook runs and compares their paths', () => {
    expect(isNotebookJob(notebookJob({}))).toBe(true);
    expect(isNotebookJob(notebookJob({ origin: null }))).toBe(false);
    expect(normalizePath('./work//a.ipynb')).toBe('work/a.ipynb');
    expect(normalizePath('RTC:work/a.ipynb')).toBe('work/a.ipynb');
    expect(normalizePath('/a.ipynb')).toBe('a.ipynb');
  });

  it('says which cell runs', () => {
    expect(cellProgress(status({}))).toBe('cell 3 of 12');
    expect(cellProgress(status({ status: 'starting', executing: null }))).toBe('starting the kernel');
    expect(cellProgress(status({ executing: null, cells_done: 4 }))).toBe('4 of 12 cells done');
    expect(cellProgress(status({ status: 'pending', executing: null }))).toBeNull();
    expect(cellProgress(status({ status: 'completed', state: 'COMPLETED', executing: null, cells_done: 12 }))).toBe(
      '12 of 12 cells'
    );
    const failed = { index: 6, number: 5, cell_id: null, ename: 'ValueError', evalue: 'bad', traceback: [] };
    expect(cellProgress(status({ status: 'failed', executing: null, failed_cell: failed }))).toBe(
      'failed at cell 5 of 12'
    );
    expect(cellProgress(status({ status: 'interrupted', executing: null, failed_cell: failed }))).toBe(
      'stopped at cell 5 of 12'
    );
    expect(cellProgress(null)).toBeNull();
  });

  it('measures the progress bar', () => {
    expect(cellFraction(status({}))).toBeCloseTo(2.5 / 12);
    expect(cellFraction(status({ status: 'completed', cells_done: 12, executing: null }))).toBe(1);
    expect(cellFraction(status({ cells_total: null }))).toBeNull();
  });

  it('writes the banner from the pushed job and the polled progress', () => {
    expect(bannerText(notebookJob({}), status({}))).toBe('Running as job 42 on gpu1 — cell 3 of 12');
    expect(bannerText(notebookJob({}), null)).toBe('Running as job 42 on gpu1 — starting');
    // A stale read of another job is not used.
    expect(bannerText(notebookJob({}), status({ id: '41' }))).toBe('Running as job 42 on gpu1 — starting');
    expect(bannerText(notebookJob({ state: 'PENDING', nodes: null, reason: 'Priority' }), null)).toMatch(
      /^Queued as job 42 — /
    );
    expect(bannerText(notebookJob({ state: 'PENDING', nodes: null, reason: null }), null)).toBe('Queued as job 42');
    expect(
      bannerText(
        notebookJob({ state: 'COMPLETED' }),
        status({ state: 'COMPLETED', status: 'completed', executing: null })
      )
    ).toBe('Job 42 completed — 12 of 12 cells');
  });

  it('says how a run ended', () => {
    const done = status({ state: 'COMPLETED', status: 'completed', executing: null });
    expect(endMessage(notebookJob({ state: 'COMPLETED' }), done)).toBe(
      'Notebook analysis.ipynb ran to the end (job 42).'
    );
    const failed = status({
      state: 'FAILED',
      status: 'failed',
      executing: null,
      failed_cell: {
        index: 6,
        number: 5,
        cell_id: null,
        ename: 'ZeroDivisionError',
        evalue: 'division by zero',
        traceback: []
      }
    });
    expect(endMessage(notebookJob({ state: 'FAILED' }), failed)).toBe(
      'Notebook analysis.ipynb failed at cell 5 of 12 (job 42): ZeroDivisionError: division by zero'
    );
    const timeout = status({
      state: 'TIMEOUT',
      status: 'interrupted',
      executing: null,
      message: 'The job reached its time limit.'
    });
    expect(endMessage(notebookJob({ state: 'TIMEOUT' }), timeout)).toBe(
      'Notebook analysis.ipynb (job 42): The job reached its time limit.'
    );
    expect(endMessage(notebookJob({ state: 'CANCELLED' }), null)).toBe('Notebook analysis (job 42) ended: cancelled.');
  });

  it('takes the colours out of tracebacks', () => {
    expect(stripAnsi('\u001b[0;31mValueError\u001b[0m: bad')).toBe('ValueError: bad');
  });
});

describe('NotebookProgressStore', () => {
  function setup(state: TritonAPI.JobState) {
    const model = new JobsModel({ channel: new EventsChannel({ auto: false }), auto: false });
    model.upsert(notebookJob({ state }));
    const calls: string[] = [];
    const store = new NotebookProgressStore({
      model,
      intervalMs: 20,
      fetch: async id => {
        calls.push(id);
        return status({ id, state: model.get(id)?.state ?? 'RUNNING' });
      }
    });
    return { model, store, calls };
  }
  const wait = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

  it('polls an active run only while a view of it is visible', async () => {
    const { store, calls } = setup('RUNNING');
    let visible = false;
    const watch = store.watch('42', () => visible);
    await wait(80);
    expect(calls).toHaveLength(0);
    visible = true;
    await wait(120);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(store.get('42')?.executing?.number).toBe(3);
    watch.dispose();
    const after = calls.length;
    await wait(80);
    expect(calls.length).toBe(after);
    store.dispose();
  });

  it('reads an ended run once for an eager view, and never polls it', async () => {
    const { store, calls } = setup('FAILED');
    const watch = store.watch('42', () => true, { eager: true });
    await wait(80);
    expect(calls).toEqual(['42']);
    const lazy = store.watch('42', () => true);
    await wait(60);
    expect(calls).toEqual(['42']);
    watch.dispose();
    lazy.dispose();
    store.dispose();
  });

  it('reads once more when the run ends, then stops', async () => {
    const { model, store, calls } = setup('RUNNING');
    const changed: string[] = [];
    store.changed.connect((_, id) => changed.push(id));
    const watch = store.watch('42', () => true);
    await wait(50);
    model.upsert(notebookJob({ state: 'COMPLETED' }));
    await wait(30);
    expect(store.get('42')?.state).toBe('COMPLETED');
    const after = calls.length;
    await wait(80);
    expect(calls.length).toBe(after);
    expect(changed.length).toBeGreaterThan(0);
    watch.dispose();
    store.dispose();
  });
});
