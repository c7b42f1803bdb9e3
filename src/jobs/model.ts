/**
 * My Slurm jobs, as the server's one job monitor sees them. ONE JobsModel per browser tab (the
 * jobs plugin provides it as `IJobsModel`); the sidebar, the detail view, notifications and every
 * notebook widget read it, and nothing else in the UI asks for the job list.
 *
 * It listens on the push channel (`{base_url}tritonml/events`): a snapshot on connect, then one
 * event per changed job. A `ping` every 30 s keeps proxies (Open OnDemand) from closing an idle
 * socket. When the socket drops it reconnects with back-off and, meanwhile, falls back to polling
 * `GET jobs` with back-off, standing by while the tab is hidden.
 */
import { ServerConnection } from '@jupyterlab/services';
import { Token } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, JobsClient, TritonAPI } from '../api';
import { IMetricsStream, MetricsHandle, MetricsStore } from '../metrics/stream';

/** The little of the WebSocket API the model uses (tests pass a fake). */
export interface ISocketLike {
  readyState: number;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: any }) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

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

export class JobsModel implements IDisposable {
  constructor(options: JobsModel.IOptions = {}) {
    this._list = options.list ?? (() => JobsClient.list());
    this._socketFactory = options.socketFactory ?? defaultSocketFactory;
    this._pingMs = options.pingMs ?? 30 * 1000;
    this._reconnectMin = options.reconnectMinMs ?? 1000;
    this._reconnectMax = options.reconnectMaxMs ?? 60 * 1000;
    this._metricsFetch = options.metrics ?? ((id, maxPoints) => JobsClient.metrics(id, maxPoints));
    this._metricsPollMs = options.metricsPollMs ?? 5000;
    this._fallback = new Poll({
      auto: false,
      factory: () => this._pollList(),
      frequency: { interval: options.fallbackMs ?? 10 * 1000, backoff: true, max: 2 * 60 * 1000 },
      name: 'tritonml:jobs-fallback',
      standby: 'when-hidden'
    });
    if (options.auto ?? true) {
      this.connect();
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

  get connection(): Connection {
    return this._connection;
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

  /** Emits after every batch of changes (a snapshot, an event, a status). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emits once per job whose record changed, with its previous and new state. */
  get jobChanged(): ISignal<this, IJobChange> {
    return this._jobChanged;
  }

  get isDisposed(): boolean {
    return this._connection === 'disposed';
  }

  /** Open the push channel (done by the constructor unless `auto: false`). */
  connect(): void {
    if (this.isDisposed || this._socket) {
      return;
    }
    this._clearReconnect();
    this._setConnection('connecting');
    let socket: ISocketLike;
    try {
      socket = this._socketFactory(this._url());
    } catch (error) {
      console.warn('tritonml-lab: cannot open the jobs channel', error);
      this._onSocketClosed();
      return;
    }
    this._socket = socket;
    socket.onopen = () => {
      if (this._socket !== socket) {
        return;
      }
      this._attempts = 0;
      this._setConnection('live');
      void this._fallback.stop();
      this._startPing();
      // Watches do not survive a reconnect: ask again (the server answers with the history).
      for (const id of this._metrics.keys()) {
        this._sendMetricsAction('watch-metrics', id);
      }
    };
    socket.onmessage = event => {
      if (this._socket === socket) {
        this.handleMessage(event.data);
      }
    };
    socket.onclose = () => {
      if (this._socket === socket) {
        this._socket = null;
        this._onSocketClosed();
      }
    };
    socket.onerror = () => {
      // onclose follows and handles the reconnect.
    };
  }

  /** Ask the server for the list now (after a submit or cancel, or the refresh button). */
  async refresh(): Promise<void> {
    try {
      this.applySnapshot(await this._list());
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

  /**
   * Follow the GPU/CPU samples of job `id`. Ref-counted per job: the first watcher sends
   * watch-metrics on the push channel, disposing the last handle sends unwatch-metrics. While the
   * socket is down, `GET jobs/{id}/metrics` is polled every few seconds instead.
   */
  watchMetrics(id: string): IMetricsStream {
    let entry = this._metrics.get(id);
    if (!entry) {
      entry = { store: new MetricsStore(id), refs: 0 };
      this._metrics.set(id, entry);
      if (this._connection === 'live') {
        this._sendMetricsAction('watch-metrics', id);
      } else if (this._connection === 'polling') {
        void this._pollMetrics(id);
      }
      this._updateMetricsPoll();
    }
    entry.refs++;
    const store = entry.store;
    return new MetricsHandle(store, () => {
      const current = this._metrics.get(id);
      if (!current || current.store !== store || --current.refs > 0) {
        return;
      }
      this._metrics.delete(id);
      store.dispose();
      if (this._connection === 'live') {
        this._sendMetricsAction('unwatch-metrics', id);
      }
      this._updateMetricsPoll();
    });
  }

  /** Job ids whose metrics someone watches, with their watcher counts (for tests). */
  get metricsWatchers(): ReadonlyMap<string, number> {
    return new Map([...this._metrics].map(([id, entry]) => [id, entry.refs]));
  }

  /** Handle one message of the push channel (public for tests). */
  handleMessage(raw: string): void {
    let message: TritonAPI.IEvent | TritonAPI.IMetricsEvent;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    switch (message.event) {
      case 'snapshot':
        this.applySnapshot(message.data);
        break;
      case 'job':
        this.upsert(message.data);
        break;
      case 'status':
        this._status = { ...message.data };
        this._changed.emit();
        break;
      case 'metrics-history':
        this._metrics.get(String(message.data.id))?.store.applyHistory(message.data);
        break;
      case 'metrics':
        this._metrics.get(String(message.data.id))?.store.applyLive(message.data);
        break;
      default:
        break;
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
    this._loaded = true;
    this._changed.emit();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._connection = 'disposed';
    this._clearReconnect();
    this._stopPing();
    this._fallback.dispose();
    this._updateMetricsPoll();
    for (const entry of this._metrics.values()) {
      entry.store.dispose();
    }
    this._metrics.clear();
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
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

  private _url(): string {
    const settings = ServerConnection.makeSettings();
    let url = JobsClient.eventsUrl(settings);
    // As @jupyterlab/services does for kernel sockets: browsers send no Authorization header on
    // a WebSocket, so the token travels in the query when the server is configured for it.
    if (settings.appendToken && settings.token) {
      url += `?token=${encodeURIComponent(settings.token)}`;
    }
    return url;
  }

  private _onSocketClosed(): void {
    this._stopPing();
    if (this.isDisposed) {
      return;
    }
    this._setConnection('polling');
    if (this._fallback.state.phase === 'constructed' || this._fallback.state.phase === 'stopped') {
      void this._fallback.start();
    }
    const delay = Math.min(this._reconnectMax, this._reconnectMin * 2 ** this._attempts);
    this._attempts++;
    // A little jitter so the tabs of a restarted server do not all come back at once.
    this._reconnectTimer = setTimeout(
      () => {
        this._reconnectTimer = null;
        this.connect();
      },
      delay * (0.8 + 0.4 * Math.random())
    );
  }

  private async _pollList(): Promise<void> {
    if (this._connection === 'live') {
      return;
    }
    await this.refresh();
  }

  private _startPing(): void {
    this._stopPing();
    this._pingTimer = setInterval(() => {
      const socket = this._socket;
      if (socket && socket.readyState === 1) {
        socket.send('ping');
      }
    }, this._pingMs);
  }

  private _stopPing(): void {
    if (this._pingTimer !== null) {
      clearInterval(this._pingTimer);
      this._pingTimer = null;
    }
  }

  private _clearReconnect(): void {
    if (this._reconnectTimer !== null) {
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
    }
  }

  private _setConnection(connection: Connection): void {
    if (this._connection !== connection) {
      this._connection = connection;
      this._updateMetricsPoll();
      this._changed.emit();
    }
  }

  private _sendMetricsAction(action: 'watch-metrics' | 'unwatch-metrics', id: string): void {
    const socket = this._socket;
    if (socket && socket.readyState === 1) {
      socket.send(JSON.stringify({ action, id }));
    }
  }

  /** Poll the watched jobs' metrics while the socket is down; stop when it is back. */
  private _updateMetricsPoll(): void {
    // While reconnecting too: a reconnect that keeps failing may take a minute between tries.
    const wanted = this._connection !== 'live' && this._connection !== 'disposed' && this._metrics.size > 0;
    if (wanted && this._metricsTimer === null) {
      this._metricsTimer = setInterval(() => {
        if (typeof document !== 'undefined' && document.hidden) {
          return;
        }
        for (const id of this._metrics.keys()) {
          void this._pollMetrics(id);
        }
      }, this._metricsPollMs);
    } else if (!wanted && this._metricsTimer !== null) {
      clearInterval(this._metricsTimer);
      this._metricsTimer = null;
    }
  }

  private async _pollMetrics(id: string): Promise<void> {
    const store = this._metrics.get(id)?.store;
    if (!store) {
      return;
    }
    try {
      const data = await this._metricsFetch(id, store.maxPoints);
      if (this._metrics.get(id)?.store === store && this._connection !== 'live') {
        store.applyHistory(data);
      }
    } catch (error) {
      if (this._metrics.get(id)?.store === store) {
        store.setError(error instanceof Error ? error.message : String(error));
      }
    }
  }

  private _list: () => Promise<TritonAPI.IJobList>;
  private _socketFactory: (url: string) => ISocketLike;
  private _socket: ISocketLike | null = null;
  private _pingMs: number;
  private _pingTimer: ReturnType<typeof setInterval> | null = null;
  private _reconnectMin: number;
  private _reconnectMax: number;
  private _reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private _attempts = 0;
  private _fallback: Poll;
  private _metrics = new Map<string, { store: MetricsStore; refs: number }>();
  private _metricsFetch: (id: string, maxPoints: number) => Promise<TritonAPI.IMetrics>;
  private _metricsPollMs: number;
  private _metricsTimer: ReturnType<typeof setInterval> | null = null;
  private _jobs = new Map<string, TritonAPI.IJob>();
  private _loaded = false;
  private _status: IMonitorStatus = { updated: null, error: null, interval: null };
  private _error: APIError | null = null;
  private _connection: Connection = 'connecting';
  private _changed = new Signal<this, void>(this);
  private _jobChanged = new Signal<this, IJobChange>(this);
}

export namespace JobsModel {
  export interface IOptions {
    /** Connect at once (default true); tests pass false and call `connect()`. */
    auto?: boolean;
    /** Where the fallback list comes from; defaults to `JobsClient.list`. */
    list?: () => Promise<TritonAPI.IJobList>;
    /** Opens the push channel; defaults to the server settings' WebSocket. */
    socketFactory?: (url: string) => ISocketLike;
    pingMs?: number;
    reconnectMinMs?: number;
    reconnectMaxMs?: number;
    /** Fallback poll interval while the socket is down (default 10 s, backing off to 2 min). */
    fallbackMs?: number;
    /** Where metrics come from while the socket is down; defaults to `JobsClient.metrics`. */
    metrics?: (id: string, maxPoints: number) => Promise<TritonAPI.IMetrics>;
    /** Metrics poll interval while the socket is down (default 5 s). */
    metricsPollMs?: number;
  }
}

function defaultSocketFactory(url: string): ISocketLike {
  const settings = ServerConnection.makeSettings();
  return new settings.WebSocket(url) as unknown as ISocketLike;
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

/** The tab's one jobs model, for plugins that show jobs (the notebook widget). */
export const IJobsModel = new Token<JobsModel>(
  'tritonml-lab:IJobsModel',
  'My Slurm jobs, pushed by the server; one per tab.'
);
