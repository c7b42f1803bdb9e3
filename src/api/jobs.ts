/** Jobs: list, submit, preview, detail, cancel, logs, samples, and the push channel's job events. */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE, queryString, requestAPI, Schemas, segment, IServerEvent } from './http';
import type { IMetrics } from './metrics';

/** Slurm's own state names. */
export type JobState = Schemas['JobState'];
/** What POST jobs accepts (with `origin`); exactly one of code, script, command. */
export type IJobRequest = Schemas['JobRequest'];
export type IJobSpec = Omit<IJobRequest, 'origin'>;
export type IOrigin = Schemas['Origin-Output'];
/** A job in GET jobs: Slurm's view plus what tritonml-lab knows of it. */
export type IJob = Schemas['JobView'];
export type IJobDetail = Schemas['JobDetail'];
/** One run of a long job that requeued itself (its restart history). */
export type IJobRun = Schemas['JobRun'];
/** Long jobs: warn before the time limit, requeue up to N times. */
export type ICheckpoint = Schemas['Checkpoint-Output'];
export type IEfficiency = NonNullable<IJobDetail['efficiency']>;
/** GPU/CPU summary of the in-job samples (tritonml_lab/metrics/efficiency.py). */
export type IMetricsSummary = NonNullable<IJobDetail['metrics']>;
export type IJobList = Schemas['JobList'];
export type ILogChunk = Schemas['LogChunk'];

/** Messages of the push channel ({base_url}tritonml/events). */
export type IEvent = Extract<IServerEvent, { event: 'snapshot' | 'job' | 'job-removed' | 'status' | 'pong' }>;

export const JobsClient = {
  /** `fresh`: the refresh button; the server asks squeue now (within its scheduler budget). */
  list(settings?: ServerConnection.ISettings, fresh = false): Promise<IJobList> {
    return requestAPI<IJobList>(fresh ? 'jobs?fresh=1' : 'jobs', {}, settings);
  },

  get(id: string, settings?: ServerConnection.ISettings): Promise<IJobDetail> {
    return requestAPI<IJobDetail>(`jobs/${segment(id)}`, {}, settings);
  },

  submit(spec: IJobRequest, settings?: ServerConnection.ISettings): Promise<IJobDetail> {
    return requestAPI<IJobDetail>('jobs', { method: 'POST', body: JSON.stringify(spec) }, settings);
  },

  preview(spec: IJobRequest, settings?: ServerConnection.ISettings): Promise<Schemas['Preview']> {
    return requestAPI<Schemas['Preview']>('jobs/preview', { method: 'POST', body: JSON.stringify(spec) }, settings);
  },

  cancel(id: string, settings?: ServerConnection.ISettings): Promise<IJob> {
    return requestAPI<IJob>(`jobs/${segment(id)}`, { method: 'DELETE' }, settings);
  },

  log(
    id: string,
    stream: 'stdout' | 'stderr',
    offset: number,
    settings?: ServerConnection.ISettings
  ): Promise<ILogChunk> {
    return requestAPI<ILogChunk>(`jobs/${segment(id)}/log` + queryString({ stream, offset }), {}, settings);
  },

  /** The job's samples per node, each downsampled to at most about `maxPoints`. */
  metrics(id: string, maxPoints = 3600, settings?: ServerConnection.ISettings): Promise<IMetrics> {
    return requestAPI<IMetrics>(`jobs/${segment(id)}/metrics` + queryString({ max_points: maxPoints }), {}, settings);
  },

  /** The push channel's URL (ws:// or wss://, under base_url). */
  eventsUrl(settings: ServerConnection.ISettings = ServerConnection.makeSettings()): string {
    return URLExt.join(settings.wsUrl, API_NAMESPACE, 'events');
  }
};
