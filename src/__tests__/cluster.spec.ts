import { APIError, TritonAPI } from '../api';
import { formatGpus, formatTimeLimit, sortPartitions } from '../cluster/format';
import { ClusterModel } from '../cluster/model';

function partition(over: Partial<TritonAPI.IPartition>): TritonAPI.IPartition {
  return {
    name: 'p',
    default: false,
    time_limit: null,
    time_limit_minutes: null,
    nodes: [],
    node_count: 0,
    state: 'UP',
    cpus_total: 0,
    cpus_idle: 0,
    gpus: [],
    ...over
  };
}

const summary: TritonAPI.IClusterSummary = {
  cluster: 'triton-dev',
  slurm_version: '22.05.8',
  partitions: [partition({ name: 'batch-csl', default: true })],
  gpus: [{ type: 'h100', total: 2, free: 1 }],
  gpus_total: 2,
  gpus_free: 1,
  job_defaults: { partition: null, time: '01:00:00', cpus_per_task: null, mem: null }
};

describe('format', () => {
  it('says time limits the way people say them', () => {
    expect(formatTimeLimit(null)).toBe('no limit');
    expect(formatTimeLimit(30)).toBe('30 min');
    expect(formatTimeLimit(90)).toBe('1.5 h');
    expect(formatTimeLimit(24 * 60)).toBe('1 day');
    expect(formatTimeLimit(5 * 24 * 60)).toBe('5 days');
  });

  it('lists GPU types with free counts and hides CPU partitions', () => {
    expect(
      formatGpus([
        { type: 'h100', total: 2, free: 1 },
        { type: null, total: 4, free: 4 }
      ])
    ).toBe('h100: 1/2 free, gpu: 4/4 free');
    expect(formatGpus([])).toBe('');
  });

  it('puts the default partition first, then GPU partitions by name', () => {
    const gpu = [{ type: 'a100', total: 2, free: 2 }];
    const sorted = sortPartitions([
      partition({ name: 'interactive' }),
      partition({ name: 'gpu-h100-80g', gpus: gpu }),
      partition({ name: 'batch-csl', default: true }),
      partition({ name: 'gpu-a100-80g', gpus: gpu })
    ]).map(p => p.name);
    expect(sorted).toEqual(['batch-csl', 'gpu-a100-80g', 'gpu-h100-80g', 'interactive']);
  });
});

describe('ClusterModel', () => {
  it('keeps the last summary and exposes a 503 as scheduler unavailable', async () => {
    let fail = false;
    const model = new ClusterModel({
      auto: false,
      fetch: async () => {
        if (fail) {
          throw new APIError('The Slurm scheduler cannot be reached right now', 503);
        }
        return summary;
      }
    });
    await model.refresh();
    expect(model.summary?.cluster).toBe('triton-dev');
    expect(model.error).toBeNull();

    fail = true;
    await model.refresh();
    expect(model.error?.schedulerUnavailable).toBe(true);
    expect(model.summary?.cluster).toBe('triton-dev');
    model.dispose();
  });

  it('asks nothing while no view shows it, at once when one does, and fresh only on refresh', async () => {
    const asked: boolean[] = [];
    const model = new ClusterModel({
      refreshSeconds: 5,
      fetch: async fresh => {
        asked.push(fresh);
        return summary;
      }
    });
    model.active = false; // the sidebar is closed
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(asked).toEqual([]);
    model.active = true; // opened
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(asked).toEqual([false]);
    await model.refresh(); // the refresh button
    expect(asked).toEqual([false, true]);
    model.dispose();
  });
});
