/** Pure helpers that turn job data into the words and colours the jobs panel and widget show. */
import { TritonAPI } from '../api';

/** The five families a state badge is coloured by. */
export type StateFamily = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

const FAMILIES: { [state: string]: StateFamily } = {
  PENDING: 'pending',
  CONFIGURING: 'pending',
  REQUEUED: 'pending',
  REQUEUE_HOLD: 'pending',
  REQUEUE_FED: 'pending',
  RESV_DEL_HOLD: 'pending',
  SUSPENDED: 'pending',
  STOPPED: 'pending',
  RUNNING: 'running',
  COMPLETING: 'running',
  SIGNALING: 'running',
  STAGE_OUT: 'running',
  RESIZING: 'running',
  COMPLETED: 'done',
  CANCELLED: 'cancelled',
  // Everything else that ended did not end well.
  FAILED: 'failed',
  TIMEOUT: 'failed',
  OUT_OF_MEMORY: 'failed',
  NODE_FAIL: 'failed',
  BOOT_FAIL: 'failed',
  DEADLINE: 'failed',
  PREEMPTED: 'failed',
  SPECIAL_EXIT: 'failed',
  REVOKED: 'failed',
  UNKNOWN: 'failed'
};

/** The family of a Slurm state ("CANCELLED by 123" counts as cancelled; unknown names as failed). */
export function stateFamily(state: string | null | undefined): StateFamily {
  const name = (state ?? '').trim().split(/\s+/)[0].toUpperCase();
  return FAMILIES[name] ?? (name === '' ? 'pending' : 'failed');
}

/** Still queued or running: worth following. */
export function isActive(state: string | null | undefined): boolean {
  const family = stateFamily(state);
  return family === 'pending' || family === 'running';
}

/** Ended for good: COMPLETED, FAILED, CANCELLED, TIMEOUT, ... */
export function isFinal(state: string | null | undefined): boolean {
  return !!state && !isActive(state);
}

/** "OUT_OF_MEMORY" -> "out of memory". */
export function stateLabel(state: string | null | undefined): string {
  return (state ?? 'unknown').toLowerCase().replace(/_/g, ' ');
}

/** 45 -> "45s", 725 -> "12m 05s", 3720 -> "1h 02m", 183600 -> "2d 03h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds) || seconds < 0) {
    return '–';
  }
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  }
  return `${Math.floor(s / 86400)}d ${pad(Math.floor((s % 86400) / 3600))}h`;
}

/** Elapsed seconds now: running jobs count on from `started` between monitor updates. */
export function elapsedSeconds(job: TritonAPI.IJob, now: number = Date.now() / 1000): number | null {
  if (stateFamily(job.state) === 'running' && job.started) {
    return Math.max(job.elapsed ?? 0, Math.floor(now - job.started));
  }
  if (job.elapsed !== null && job.elapsed !== undefined) {
    return job.elapsed;
  }
  if (job.started && job.ended) {
    return job.ended - job.started;
  }
  return null;
}

/**
 * When a pending job is expected to start, as Slurm guesses it: "in ~5 min (14:05)", "any moment",
 * or null when Slurm does not know (no estimate, or the far-future placeholder of a held job).
 */
export function formatExpectedStart(
  expected: number | null | undefined,
  now: number = Date.now() / 1000,
  clock: (epoch: number) => string = defaultClock
): string | null {
  if (!expected) {
    return null;
  }
  const delta = expected - now;
  if (delta > 365 * 86400) {
    return null;
  }
  if (delta <= 30) {
    return 'any moment';
  }
  const when = clock(expected);
  if (delta < 3600) {
    return `in ~${Math.max(1, Math.round(delta / 60))} min (${when})`;
  }
  if (delta < 86400) {
    const h = delta / 3600;
    return `in ~${h < 10 ? h.toFixed(1).replace(/\.0$/, '') : Math.round(h)} h (${when})`;
  }
  return `in ~${Math.round(delta / 86400)} d (${when})`;
}

function defaultClock(epoch: number): string {
  const date = new Date(epoch * 1000);
  const sameDay = new Date().toDateString() === date.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' });
}

/** "14:05:03" today, "Tue 26 Nov 14:05" on another day. */
export function formatWhen(epoch: number, now: Date = new Date()): string {
  const date = new Date(epoch * 1000);
  if (date.toDateString() === now.toDateString()) {
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  return date.toLocaleString([], {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit'
  });
}

/** Slurm's pending reasons in words a researcher understands. */
const REASONS: { [reason: string]: string } = {
  Priority: 'waiting for jobs with higher priority',
  Resources: 'waiting for resources to free up',
  Dependency: 'waiting for another job to finish',
  DependencyNeverSatisfied: 'the job it depends on failed; it will never start',
  BeginTime: 'waiting for its start time',
  JobHeldUser: 'held by you (scontrol release to start it)',
  JobHeldAdmin: 'held by an administrator',
  ReqNodeNotAvail: 'the nodes it asked for are unavailable',
  PartitionTimeLimit: 'its time limit exceeds the partition’s',
  PartitionNodeLimit: 'it asks for more nodes than the partition allows',
  QOSMaxGRESPerUser: 'you already use your GPU quota',
  QOSMaxJobsPerUserLimit: 'you already run as many jobs as allowed',
  AssocGrpGRES: 'your group uses its GPU quota',
  Reservation: 'waiting for a reservation',
  Nodes_required_for_job_are_DOWN: 'the nodes it needs are down'
};

/** "Priority" -> "waiting for jobs with higher priority"; "None" and empty -> null. */
export function formatReason(reason: string | null | undefined): string | null {
  if (!reason || reason === 'None' || reason === '(null)') {
    return null;
  }
  const key = reason.replace(/^\(|\)$/g, '');
  return REASONS[key] ?? key.replace(/_/g, ' ');
}

/** 1536 -> "1.5 KiB", 17179869184 -> "16 GiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !isFinite(bytes)) {
    return '–';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value >= 10 || unit === 0 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${units[unit]}`;
}

/** 0.4567 -> "46%". */
export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !isFinite(fraction)) {
    return '–';
  }
  return `${Math.round(fraction * 100)}%`;
}

/** "gres/gpu:h100=1" or "h100:1" or "1" -> "1× h100" / "1 GPU"; null/empty -> "". */
export function formatGpus(gpus: string | null | undefined): string {
  if (!gpus) {
    return '';
  }
  const parts = gpus.split(',').map(part => {
    const clean = part.replace(/^(gres\/)?gpu[:=]?/, '');
    const m = /^(?:([A-Za-z0-9_.-]+)[:=])?(\d+)$/.exec(clean);
    if (!m) {
      return part;
    }
    const count = Number(m[2]);
    return m[1] ? `${count}× ${m[1]}` : `${count} GPU${count === 1 ? '' : 's'}`;
  });
  return parts.join(', ');
}

export type JobFilter = 'active' | 'finished' | 'all';

/** The jobs a filter and a search text keep, active first, newest first. */
export function filterJobs(jobs: TritonAPI.IJob[], filter: JobFilter, query = ''): TritonAPI.IJob[] {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return sortJobs(
    jobs.filter(job => {
      if (filter === 'active' && !isActive(job.state)) {
        return false;
      }
      if (filter === 'finished' && isActive(job.state)) {
        return false;
      }
      const haystack = [job.id, job.name, job.state, job.partition ?? '', job.nodes ?? '', job.gpus ?? '']
        .join(' ')
        .toLowerCase();
      return words.every(word => haystack.includes(word));
    })
  );
}

/** Active jobs first (running before pending), then the rest, newest submission first. */
export function sortJobs(jobs: TritonAPI.IJob[]): TritonAPI.IJob[] {
  const rank = (job: TritonAPI.IJob) => {
    const family = stateFamily(job.state);
    return family === 'running' ? 0 : family === 'pending' ? 1 : 2;
  };
  const idNumber = (job: TritonAPI.IJob) => parseFloat(job.id.replace('_', '.')) || 0;
  return [...jobs].sort(
    (a, b) => rank(a) - rank(b) || (b.submitted ?? 0) - (a.submitted ?? 0) || idNumber(b) - idNumber(a)
  );
}

/** The per-field messages of a 400 answer, keyed by the top-level spec field ("env.X" -> "env"). */
export function fieldErrors(errors: { field: string; message: string }[] | undefined | null): {
  [field: string]: string;
} {
  const out: { [field: string]: string } = {};
  for (const error of errors ?? []) {
    const field = (error.field || 'spec').split('.')[0];
    out[field] = out[field] ? `${out[field]}; ${error.message}` : error.message;
  }
  return out;
}
