import { APIError, TritonAPI } from '../api';
import {
  elapsedSeconds,
  fieldErrors,
  filterJobs,
  formatBytes,
  formatDuration,
  formatExpectedStart,
  formatGpus,
  formatReason,
  isActive,
  isFinal,
  stateFamily
} from '../jobs/format';
import { LogFollower } from '../jobs/logfollow';
import { JobsModel } from '../jobs/model';
import { formFromSpec, gpuTypesOf, specFromForm } from '../jobs/spec';
import { fakeChannel, FakeSocket, job } from './jobs.fixture';

describe('state families', () => {
  it('colours every Slurm state by what it means for the user', () => {
    expect(stateFamily('PENDING')).toBe('pending');
    expect(stateFamily('REQUEUED')).toBe('pending');
    expect(stateFamily('RUNNING')).toBe('running');
    expect(stateFamily('COMPLETING')).toBe('running');
    expect(stateFamily('COMPLETED')).toBe('done');
    expect(stateFamily('CANCELLED')).toBe('cancelled');
    expect(stateFamily('CANCELLED by 0')).toBe('cancelled');
    expect(stateFamily('FAILED')).toBe('failed');
    expect(stateFamily('TIMEOUT')).toBe('failed');
    expect(stateFamily('OUT_OF_MEMORY')).toBe('failed');
    expect(stateFamily('SOMETHING_NEW')).toBe('failed');
  });

  it('knows which states are still worth following', () => {
    expect(isActive('PENDING')).toBe(true);
    expect(isActive('RUNNING')).toBe(true);
    expect(isActive('COMPLETED')).toBe(false);
    expect(isFinal('TIMEOUT')).toBe(true);
    expect(isFinal('')).toBe(false);
  });
});

describe('formatting', () => {
  it('says durations compactly', () => {
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(725)).toBe('12m 05s');
    expect(formatDuration(3720)).toBe('1h 02m');
    expect(formatDuration(2 * 86400 + 3 * 3600)).toBe('2d 03h');
  });

  it('counts elapsed time on for running jobs', () => {
    expect(elapsedSeconds(job({ state: 'RUNNING', started: 100, elapsed: 5 }), 160)).toBe(60);
    expect(elapsedSeconds(job({ state: 'COMPLETED', started: 100, ended: 130 }), 1e9)).toBe(30);
    expect(elapsedSeconds(job({ state: 'PENDING' }), 1e9)).toBeNull();
  });

  it('says when a pending job is expected to start', () => {
    const clock = (epoch: number) => `@${epoch}`;
    expect(formatExpectedStart(null, 0, clock)).toBeNull();
    expect(formatExpectedStart(10, 0, clock)).toBe('any moment');
    expect(formatExpectedStart(300, 0, clock)).toBe('in ~5 min (@300)');
    expect(formatExpectedStart(5400, 0, clock)).toBe('in ~1.5 h (@5400)');
    expect(formatExpectedStart(3 * 86400, 0, clock)).toBe('in ~3 d (@259200)');
    // Slurm's "unknown" placeholder far in the future is no estimate.
    expect(formatExpectedStart(4e9, 0, clock)).toBeNull();
  });

  it('explains pending reasons and GPUs', () => {
    expect(formatReason('Priority')).toBe('waiting for jobs with higher priority');
    expect(formatReason('None')).toBeNull();
    expect(formatReason('Some_New_Reason')).toBe('Some New Reason');
    expect(formatGpus('h100:1')).toBe('1× h100');
    expect(formatGpus('gres/gpu:a100=2')).toBe('2× a100');
    expect(formatGpus('2')).toBe('2 GPUs');
    expect(formatGpus(null)).toBe('');
    expect(formatBytes(16 * 1024 ** 3)).toBe('16 GiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });

  it('filters and sorts: active first, newest first, search in name, id, node', () => {
    const jobs = [
      job({ id: '1', state: 'COMPLETED', submitted: 1 }),
      job({ id: '2', state: 'PENDING', submitted: 2 }),
      job({ id: '3', state: 'RUNNING', submitted: 3, nodes: 'gpu1', name: 'train' }),
      job({ id: '4', state: 'FAILED', submitted: 4 })
    ];
    expect(filterJobs(jobs, 'all').map(j => j.id)).toEqual(['3', '2', '4', '1']);
    expect(filterJobs(jobs, 'active').map(j => j.id)).toEqual(['3', '2']);
    expect(filterJobs(jobs, 'finished').map(j => j.id)).toEqual(['4', '1']);
    expect(filterJobs(jobs, 'all', 'GPU1').map(j => j.id)).toEqual(['3']);
    expect(filterJobs(jobs, 'all', 'train running').map(j => j.id)).toEqual(['3']);
  });

  it('keys the server’s per-field messages by spec field', () => {
    expect(
      fieldErrors([
        { field: 'gpus', message: 'bad' },
        { field: 'env', message: 'x' },
        { field: 'env.FOO', message: 'y' },
        { field: '', message: 'give exactly one' }
      ])
    ).toEqual({ gpus: 'bad', env: 'x; y', spec: 'give exactly one' });
  });
});

describe('the New job form', () => {
  it('turns the form into a spec, leaving empty fields to the server defaults', () => {
    const form = formFromSpec({});
    form.partition = 'gpu-h100-80g';
    form.gpuCount = '1';
    form.gpuType = 'h100';
    form.cpus = '4';
    form.modules = 'cuda, scicomp-python-env';
    form.env = 'A=1\n\nB=x=y';
    form.command = 'echo hi';
    const { spec, errors, runnable } = specFromForm(form);
    expect(errors).toEqual({});
    expect(runnable).toBe(true);
    expect(spec).toEqual({
      partition: 'gpu-h100-80g',
      gpus: 'h100:1',
      cpus_per_task: 4,
      modules: ['cuda', 'scicomp-python-env'],
      env: { A: '1', B: 'x=y' },
      command: 'echo hi'
    });
  });

  it('sends only the chosen kind of payload and flags local mistakes', () => {
    const form = formFromSpec({ command: 'echo', code: 'print(1)' });
    expect(form.run).toBe('code');
    form.env = 'novalue';
    form.cpus = 'four';
    const { spec, errors } = specFromForm(form);
    expect(spec.code).toBe('print(1)');
    expect(spec.command).toBeUndefined();
    expect(errors.env).toMatch(/NAME=value/);
    expect(errors.cpus_per_task).toBeTruthy();
    expect(specFromForm(formFromSpec({})).runnable).toBe(false);
  });

  it('pre-fills from a spec (round trip)', () => {
    const spec: TritonAPI.IJobSpec = {
      name: 'x',
      gpus: 'a100:2',
      mem: '16G',
      time: '01:00:00',
      env: { HF_HOME: '/scratch/shareddata/dldata/hf' },
      modules: ['cuda'],
      array: '0-3',
      script: 'nvidia-smi\n'
    };
    expect(specFromForm(formFromSpec(spec)).spec).toEqual(spec);
  });

  it('offers the GPU types of the chosen partition', () => {
    const partition: TritonAPI.IPartition = {
      name: 'gpu-debug',
      default: false,
      time_limit: null,
      time_limit_minutes: 30,
      nodes: [],
      node_count: 2,
      state: 'UP',
      cpus_total: 0,
      cpus_idle: 0,
      gpus: [
        { type: 'h100', total: 2, free: 2 },
        { type: 'a100', total: 2, free: 1 }
      ]
    };
    expect(gpuTypesOf(partition)).toEqual(['a100', 'h100']);
    expect(gpuTypesOf(undefined)).toEqual([]);
  });
});

describe('LogFollower', () => {
  /** A fake log endpoint over a growing string, with the server's chunk limit. */
  function fakeLog(limit = 8) {
    const state = { content: '', calls: [] as number[], missing: false };
    const fetch = async (_id: string, stream: 'stdout' | 'stderr', offset: number): Promise<TritonAPI.ILogChunk> => {
      state.calls.push(offset);
      if (state.missing) {
        return { stream, offset: 0, size: 0, data: '', missing: true };
      }
      const size = state.content.length;
      const start = offset > size ? 0 : offset;
      const data = state.content.slice(start, start + limit);
      return { stream, offset: start + data.length, size, data, missing: false };
    };
    return { state, fetch };
  }

  it('reads only the new bytes, from the last offset, in as many chunks as needed', async () => {
    const { state, fetch } = fakeLog(8);
    const follower = new LogFollower({ jobId: '7', stream: 'stdout', fetch });
    state.content = 'line one\nline two\n';
    expect(await follower.read()).toBe(true);
    expect(follower.text).toBe('line one\nline two\n');
    expect(state.calls).toEqual([0, 8, 16]);
    state.calls = [];
    expect(await follower.read()).toBe(false);
    expect(state.calls).toEqual([18]);
    state.content += 'three\n';
    state.calls = [];
    await follower.read();
    expect(state.calls).toEqual([18]);
    expect(follower.text).toBe('line one\nline two\nthree\n');
    expect(follower.offset).toBe(24);
    expect(follower.tail(2)).toBe('line two\nthree');
    follower.dispose();
  });

  it('says when the file does not exist yet', async () => {
    const { state, fetch } = fakeLog();
    state.missing = true;
    const follower = new LogFollower({ jobId: '7', stream: 'stderr', fetch });
    await follower.read();
    expect(follower.missing).toBe(true);
    expect(follower.loaded).toBe(true);
    expect(follower.text).toBe('');
    follower.dispose();
  });

  it('skips to the end of a big log instead of reading all of it', async () => {
    const { state, fetch } = fakeLog(16);
    state.content = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const follower = new LogFollower({ jobId: '7', stream: 'stdout', fetch, tailBytes: 20 });
    await follower.read();
    expect(state.calls.length).toBeLessThan(5);
    expect(follower.truncated).toBe(true);
    expect(follower.text).toBe('line 98\nline 99\n');
    follower.dispose();
  });

  it('makes exactly one final read when the job ends', async () => {
    const { state, fetch } = fakeLog(64);
    const follower = new LogFollower({ jobId: '7', stream: 'stdout', fetch, intervalMs: 60000 });
    state.content = 'done\n';
    follower.setActive(false);
    follower.setActive(false);
    await follower.read();
    expect(follower.text).toBe('done\n');
    expect(state.calls).toEqual([0]); // the concurrent read() shared the final one
    follower.dispose();
  });

  it('shows an error and keeps what it had', async () => {
    let fail = false;
    const follower = new LogFollower({
      jobId: '7',
      stream: 'stdout',
      fetch: async (_id, stream, offset) => {
        if (fail) {
          throw new APIError('gone', 404);
        }
        return { stream, offset: offset + 3, size: offset + 3, data: 'ab\n', missing: false };
      }
    });
    await follower.read();
    fail = true;
    await expect(follower.read()).rejects.toThrow('gone');
    expect(follower.error?.status).toBe(404);
    expect(follower.text).toBe('ab\n');
    follower.dispose();
  });
});

describe('JobsModel over the events channel', () => {
  beforeEach(() => {
    FakeSocket.all = [];
  });

  function makeModel(
    list = jest.fn(async (): Promise<TritonAPI.IJobList> => ({
      jobs: [],
      updated: 1,
      error: null,
      interval: 2,
      server_time: null
    }))
  ) {
    const channel = fakeChannel({ pingMs: 1000, reconnectMinMs: 1000 });
    const model = new JobsModel({ channel, auto: false, list, fallbackMs: 60000 });
    const dispose = () => {
      model.dispose();
      channel.dispose();
    };
    return { model, channel, list, dispose };
  }

  it('opens the push channel under base_url and takes the snapshot', () => {
    const { model, channel, dispose } = makeModel();
    channel.connect();
    const socket = FakeSocket.all[0];
    expect(socket.url).toMatch(/\/tritonml\/events/);
    socket.open();
    expect(model.connection).toBe('live');
    const changes: any[] = [];
    model.jobChanged.connect((_, change) => changes.push(change));
    socket.receive({
      event: 'snapshot',
      data: { jobs: [job({ id: '5' }), job({ id: '6', state: 'RUNNING' })], updated: 10, error: null, interval: 2 }
    });
    expect(model.loaded).toBe(true);
    expect([...model.jobs.keys()]).toEqual(['5', '6']);
    expect(changes.map(c => [c.previous, c.current.id])).toEqual([
      [null, '5'],
      [null, '6']
    ]);
    expect(model.status.updated).toBe(10);
    dispose();
  });

  it('applies job events with the previous state, and ignores repeats', () => {
    const { model, channel, dispose } = makeModel();
    channel.connect();
    const socket = FakeSocket.all[0];
    socket.open();
    socket.receive({
      event: 'snapshot',
      data: { jobs: [job({ id: '5' })], updated: 1, error: null, interval: 2, server_time: null }
    });
    const changes: any[] = [];
    let changed = 0;
    model.jobChanged.connect((_, change) => changes.push(change));
    model.changed.connect(() => changed++);
    socket.receive({ event: 'job', data: job({ id: '5', state: 'RUNNING', nodes: 'csl1' }) });
    socket.receive({ event: 'job', data: job({ id: '5', state: 'RUNNING', nodes: 'csl1' }) });
    expect(changes).toHaveLength(1);
    expect(changes[0].previous.state).toBe('PENDING');
    expect(changes[0].current.state).toBe('RUNNING');
    expect(model.get('5')?.nodes).toBe('csl1');
    expect(changed).toBe(1);
    // A job the monitor no longer lists (a pending array's record) goes from the list at once.
    socket.receive({ event: 'job', data: job({ id: '7_[0-1]', state: 'PENDING' }) });
    socket.receive({ event: 'job-removed', data: { id: '7_[0-1]' } });
    expect(model.get('7_[0-1]')).toBeUndefined();
    expect(changed).toBe(3);
    socket.receive({ event: 'status', data: { updated: 3, error: 'slurmctld down', interval: 10 } });
    expect(model.status.error).toBe('slurmctld down');
    // A later snapshot drops jobs no longer listed.
    socket.receive({ event: 'snapshot', data: { jobs: [job({ id: '9' })], updated: 4, error: null, interval: 2 } });
    expect([...model.jobs.keys()]).toEqual(['9']);
    dispose();
  });

  it('pings every interval while open', () => {
    jest.useFakeTimers();
    try {
      const { channel, dispose } = makeModel();
      channel.connect();
      const socket = FakeSocket.all[0];
      socket.open();
      jest.advanceTimersByTime(2500);
      expect(socket.sent).toEqual(['ping', 'ping']);
      socket.receive({ event: 'pong', data: {} });
      dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  it('falls back to polling the list and reconnects with back-off when the socket drops', async () => {
    jest.useFakeTimers();
    try {
      const list = jest.fn(async (): Promise<TritonAPI.IJobList> => ({
        jobs: [job({ id: '8' })],
        updated: 1,
        error: null,
        interval: 2,
        server_time: null
      }));
      const { model, channel, dispose } = makeModel(list);
      channel.connect();
      FakeSocket.all[0].open();
      FakeSocket.all[0].close();
      expect(model.connection).toBe('polling');
      // The fallback poll asks at once.
      await jest.advanceTimersByTimeAsync(10);
      expect(list).toHaveBeenCalledTimes(1);
      expect(model.get('8')).toBeTruthy();
      // First reconnect after ~1 s; it fails; the next waits ~2 s.
      await jest.advanceTimersByTimeAsync(1300);
      expect(FakeSocket.all).toHaveLength(2);
      FakeSocket.all[1].close();
      await jest.advanceTimersByTimeAsync(1500);
      expect(FakeSocket.all).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(1200);
      expect(FakeSocket.all).toHaveLength(3);
      FakeSocket.all[2].open();
      expect(model.connection).toBe('live');
      dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  it('shows a submitted job at once (upsert)', () => {
    const { model, dispose } = makeModel();
    const seen: string[] = [];
    model.jobChanged.connect((_, change) => seen.push(change.current.id));
    model.upsert(job({ id: '42' }));
    expect(model.get('42')?.state).toBe('PENDING');
    expect(seen).toEqual(['42']);
    dispose();
  });
});
