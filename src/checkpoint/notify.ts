/**
 * "Job 123 reaches its time limit in 2 min": once per job, for a running job submitted without the
 * checkpoint option (with it, the job is warned and can save and come back by itself).
 */
import { IDisposable } from '@lumino/disposable';

import { JobsClient, TritonAPI, serverNow } from '../api';
import { JobsModel } from '../jobs/model';
import { checkpointOf, shortDuration, timeLeft } from './timeleft';

/** Told this long before the limit (or at half the limit, for short jobs). */
export const NOTIFY_SECONDS = 120;

export function notifyAt(job: TritonAPI.IJob): number | null {
  return job.time_limit ? Math.min(NOTIFY_SECONDS, (job.time_limit * 60) / 2) : null;
}

export class TimeLimitNotifier implements IDisposable {
  constructor(
    private readonly jobs: JobsModel,
    private readonly show: (job: TritonAPI.IJob, left: number) => void,
    private readonly hasCheckpoint: (id: string) => Promise<boolean> = askServer,
    tickMs = 5000
  ) {
    this._timer = setInterval(() => this.check(), tickMs);
    jobs.changed.connect(this.check, this);
  }

  get isDisposed(): boolean {
    return this._timer === null;
  }

  dispose(): void {
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
      this.jobs.changed.disconnect(this.check, this);
    }
  }

  check(): void {
    const now = serverNow();
    for (const job of this.jobs.jobs.values()) {
      const left = timeLeft(job, now);
      const at = notifyAt(job);
      if (left === null || at === null || left > at || !job.tracked || this._seen.has(job.id)) {
        continue;
      }
      this._seen.add(job.id);
      void this.hasCheckpoint(job.id).then(
        yes => {
          if (!yes) {
            this.show(job, timeLeft(job) ?? left);
          }
        },
        () => undefined
      );
    }
  }

  private _timer: ReturnType<typeof setInterval> | null;
  private _seen = new Set<string>();
}

async function askServer(id: string): Promise<boolean> {
  return checkpointOf(await JobsClient.get(id)) !== null;
}

/** The message (plugin.ts shows it as a JupyterLab notification). */
export function timeLimitMessage(job: TritonAPI.IJob, left: number): string {
  return (
    `Job ${job.id} (${job.name}) reaches its time limit in ${shortDuration(left)}. It has no checkpoint ` +
    'option: next time, --warn 2m --requeue 3 let it save and come back.'
  );
}
