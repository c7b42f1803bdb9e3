/**
 * My Slurm jobs, as the server's one job monitor sees them. ONE JobsModel per browser tab (the
 * jobs plugin provides it as `IJobsModel`); the sidebar, the detail view, notifications and every
 * notebook widget read it, and nothing else in the UI asks for the job list.
 *
 * The jobs arrive on the tab's push channel (src/events/channel.ts): a snapshot on connect, then
 * one event per changed job. While the channel is down, `GET jobs` is polled with back-off instead,
 * standing by while the tab is hidden.
 */
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, JobsClient, TritonAPI, noteServerTime } from '../api';
import { ChannelState, EventsChannel, ServerEvent } from '../events/channel';

export type Connection = 'connecting' | 'live' | 'polling' | 'disposed';

export interface IJobChange {
  /** null for a job this tab has not seen before. */
  previous: TritonAPI.IJob | null;
  current: TritonAPI.IJob;
}

export interface IMonitorStatus {
  updated: number | null;
  error: string | null;
  interval: number | null;
}

const CONNECTION: { [state in ChannelState]: Connection } = {
  connecting: 'connecting',
  open: 'live',
  closed: 'polling',
  disposed: 'disposed'
};

export class JobsModel implements IDisposable {
  constructor(options: JobsModel.IOptions) {
    this._channel = options.channel;
    this._list = options.list ?? (fresh => JobsClient.list(undefined, fresh));
    this._fallback = new Poll({
      auto: false,
      factory: () => this._pollList(),
      frequency: { interval: options.fallbackMs ?? 10 * 1000, backoff: true, max: 2 * 60 * 1000 },
      name: 'tritonml:jobs-fallback',
      standby: 'when-hidden'
    });
    this._channel.message.connect(this._onMessage, this);
    this._channel.stateChanged.connect(this._onChannelState, this);
    if (this._channel.state === 'closed') {
      void this._fallback.start();
    }
    if (options.auto ?? true) {
      this._channel.connect();
    }
  }

  /** My jobs by id. */
  get jobs(): ReadonlyMap<string, TritonAPI.IJob> {
    return this._jobs;
  }

  /** Has any list or snapshot arrived yet? */
  get loaded(): boolean {
    return this._loaded;
  }

  /** Live (pushed), or polling while the channel reconnects. */
  get connection(): Connection {
    return this._disposed ? 'disposed' : CONNECTION[this._channel.state];
  }

  /** The monitor's own status: when it last heard from Slurm, and why not if it failed. */
  get status(): IMonitorStatus {
    return this._status;
  }

  /** Why the last fallback request failed (server unreachable), or null. */
  get error(): APIError | null {
    return this._error;
  }

  get(id: string): TritonAPI.IJob | undefined {
    return this._jobs.get(id);
  }

  /** Emits after every batch of changes (a snapshot, an event, a status, the connection). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emits once per job whose record changed, with its previous and new state. */
  get jobChanged(): ISignal<this, IJobChange> {
    return this._jobChanged;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Ask the server for the list now (after a submit or cancel; `fresh` for the refresh button). */
  async refresh(fresh = false): Promise<void> {
    try {
      this.applySnapshot(await this._list(fresh));
      this._error = null;
    } catch (error) {
      this._error = error instanceof APIError ? error : new APIError(String(error), 0);
      this._changed.emit();
      throw error;
    }
  }

  /** Put one job in at once (the answer of a submit or cancel), before the monitor reports it. */
  upsert(job: TritonAPI.IJob): void {
    if (this._apply(job)) {
      this._changed.emit();
    }
  }

  /** Replace the job list by `list` (jobs no longer listed are dropped). */
  applySnapshot(list: TritonAPI.IJobList): void {
    const seen = new Set<string>();
    for (const job of list.jobs) {
      seen.add(job.id);
      this._apply(job);
    }
    for (const id of [...this._jobs.keys()]) {
      if (!seen.has(id)) {
        this._jobs.delete(id);
      }
    }
    this._status = { updated: list.updated, error: list.error, interval: list.interval };
    noteServerTime(list.server_time); // what counts down to a time limit counts on the server's clock
    this._loaded = true;
    this._changed.emit();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._fallback.dispose();
    this._channel.message.disconnect(this._onMessage, this);
    this._channel.stateChanged.disconnect(this._onChannelState, this);
    Signal.clearData(this);
  }

  /** Store `job`; emit jobChanged when it is new or different. */
  private _apply(job: TritonAPI.IJob): boolean {
    const previous = this._jobs.get(job.id) ?? null;
    if (previous && sameJob(previous, job)) {
      return false;
    }
    this._jobs.set(job.id, job);
    this._jobChanged.emit({ previous, current: job });
    return true;
  }

  private _onMessage(_: EventsChannel, message: ServerEvent): void {
    switch (message.event) {
      case 'snapshot':
        this.applySnapshot(message.data);
        break;
      case 'job':
        this.upsert(message.data);
        break;
      case 'job-removed':
        if (this._jobs.delete(message.data.id)) {
          this._changed.emit();
        }
        break;
      case 'status':
        this._status = { ...message.data };
        noteServerTime(message.data.server_time);
        this._changed.emit();
        break;
      default:
        break; // metrics and pongs are not ours
    }
  }

  private _onChannelState(_: EventsChannel, state: ChannelState): void {
    if (state === 'open') {
      void this._fallback.stop();
    } else if (state === 'closed') {
      const phase = this._fallback.state.phase;
      if (phase === 'constructed' || phase === 'stopped') {
        void this._fallback.start();
      }
    }
    this._changed.emit();
  }

  private async _pollList(): Promise<void> {
    if (this.connection === 'live') {
      return;
    }
    await this.refresh();
  }

  private _channel: EventsChannel;
  private _list: (fresh: boolean) => Promise<TritonAPI.IJobList>;
  private _fallback: Poll;
  private _jobs = new Map<string, TritonAPI.IJob>();
  private _loaded = false;
  private _status: IMonitorStatus = { updated: null, error: null, interval: null };
  private _error: APIError | null = null;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
  private _jobChanged = new Signal<this, IJobChange>(this);
}

export namespace JobsModel {
  export interface IOptions {
    /** The tab's push channel. */
    channel: EventsChannel;
    /** Open the channel once listening (default true); tests pass false and connect it themselves. */
    auto?: boolean;
    /** Where the fallback list comes from; defaults to `JobsClient.list`. */
    list?: (fresh: boolean) => Promise<TritonAPI.IJobList>;
    /** Fallback poll interval while the channel is down (default 10 s, backing off to 2 min). */
    fallbackMs?: number;
  }
}

/** Same record? Jobs are flat JSON apart from `origin`, so compare values shallowly. */
export function sameJob(a: TritonAPI.IJob, b: TritonAPI.IJob): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const x = (a as any)[key];
    const y = (b as any)[key];
    if (x === y) {
      continue;
    }
    if (x && y && typeof x === 'object' && typeof y === 'object') {
      if (JSON.stringify(x) === JSON.stringify(y)) {
        continue;
      }
    }
    return false;
  }
  return true;
}
