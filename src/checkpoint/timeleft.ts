/**
 * Long jobs (checkpoint: warn and requeue): the time left before a running job's limit, and its
 * restart history, from the job's record (started, time_limit, runs) and its spec's `checkpoint`.
 */
import { TritonAPI, serverNow } from '../api';

export type IJobRun = TritonAPI.IJobRun;
export type ICheckpoint = TritonAPI.ICheckpoint;

/** The share of the time limit under which the time left is shown as a warning. */
export const WARN_FRACTION = 0.1;

/**
 * Seconds until the limit of a running job; null when not running or without a limit. `now` is the
 * server's clock (serverNow), as the job's start is: never the browser's own.
 */
export function timeLeft(job: TritonAPI.IJob, now: number = serverNow()): number | null {
  if (job.state !== 'RUNNING' || !job.started || !job.time_limit) {
    return null;
  }
  return Math.max(0, job.started + job.time_limit * 60 - now);
}

/** True in the last 10 % of the time limit. */
export function nearLimit(job: TritonAPI.IJob, now: number = serverNow()): boolean {
  const left = timeLeft(job, now);
  return left !== null && !!job.time_limit && left <= WARN_FRACTION * job.time_limit * 60;
}

/** The restart history: the job record's (pushed live) or the detail's (read from the markers). */
export function runsOf(job: TritonAPI.IJob | null, detail: TritonAPI.IJobDetail | null): IJobRun[] {
  const fromDetail = detail?.runs ?? [];
  const fromJob = job?.runs ?? [];
  return fromJob.length > fromDetail.length ? fromJob : fromDetail;
}

export function checkpointOf(detail: TritonAPI.IJobDetail | null): ICheckpoint | null {
  return detail?.spec?.checkpoint ?? null;
}

/** "2 min", "45 s", "1 h 05 min": a short time left for badges and notifications. */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) {
    return `${s} s`;
  }
  const minutes = Math.round(s / 60);
  if (minutes < 60) {
    return `${minutes} min`;
  }
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** "requeued", "exit 0", "running" for a run's outcome. */
export function outcomeLabel(run: IJobRun, last: boolean, state: string | null | undefined): string {
  if (run.outcome) {
    return run.outcome === 'requeued' ? 'stopped for the time limit, requeued' : run.outcome;
  }
  return last && state === 'RUNNING' ? 'running' : '–';
}
