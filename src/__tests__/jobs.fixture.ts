import { TritonAPI } from '../api';

/** A job as GET jobs lists it, with what a test does not care about filled in. */
export function job(over: Partial<TritonAPI.IJob>): TritonAPI.IJob {
  return {
    id: '1',
    name: 'job',
    state: 'PENDING',
    reason: null,
    partition: 'batch-csl',
    nodes: null,
    node_count: null,
    gpus: null,
    cpus: 1,
    user: 'me',
    account: null,
    submitted: 1000,
    started: null,
    ended: null,
    expected_start: null,
    elapsed: null,
    time_limit: 60,
    exit_code: null,
    signal: null,
    array_job_id: null,
    array_task_id: null,
    workdir: null,
    stdout_path: null,
    stderr_path: null,
    tracked: true,
    origin: null,
    directory: null,
    ...over
  };
}
