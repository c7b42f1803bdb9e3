/**
 * One sweep as the UI shows it: `SweepModel` keeps a sweep fresh (the table logic, pure functions,
 * is in table.ts).
 *
 * Freshness without a polling loop of its own: the tab's one JobsModel already hears every change of
 * my jobs over the push channel, so `GET sweeps/{id}` is asked again (debounced) when one of the
 * sweep's array jobs changes there. A slow fallback refresh runs only while tasks are active and the
 * jobs model knows nothing of the sweep (socket down, or array jobs it does not list).
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, SweepsClient, TritonAPI } from '../api';
import { IJobChange, JobsModel } from '../jobs/model';
import { arrayJobOf, staleAgainst } from './table';

// -- the live model ------------------------------------------------------------------------------
export class SweepModel implements IDisposable {
  constructor(options: SweepModel.IOptions) {
    this.id = options.id;
    this._jobs = options.jobs ?? null;
    this._fetch = options.fetch ?? (id => SweepsClient.get(id));
    this._fallbackMs = options.fallbackMs ?? 30 * 1000;
    this._debounceMs = options.debounceMs ?? 500;
    this._recheckMs = options.recheckMs ?? 2500;
    this._sweep = options.initial ?? null;
    this._jobs?.jobChanged.connect(this._onJobChanged, this);
    if (options.auto ?? true) {
      void this.refresh();
    }
  }

  readonly id: string;

  /** The sweep as last read (or the initial snapshot); null before the first answer. */
  get sweep(): TritonAPI.ISweep | null {
    return this._sweep;
  }

  /** Why the last read failed, or null. */
  get error(): APIError | null {
    return this._error;
  }

  /** Has the server answered at least once? */
  get loaded(): boolean {
    return this._loaded;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Read the sweep now (concurrent callers share one request). */
  refresh(): Promise<void> {
    if (this._disposed) {
      return Promise.resolve();
    }
    this._clearTimer();
    if (!this._inflight) {
      this._inflight = this._load().finally(() => {
        this._inflight = null;
        this._schedule();
      });
    }
    return this._inflight;
  }

  /** Put in a sweep the server answered elsewhere (retry, cancel). */
  set(sweep: TritonAPI.ISweep): void {
    this._sweep = sweep;
    this._error = null;
    this._loaded = true;
    this._recheckTries = 0;
    this._changed.emit();
    this._schedule();
  }

  /** POST sweeps/{id}/retry (the failed tasks); the answer replaces the sweep. */
  async retryFailed(): Promise<TritonAPI.ISweep> {
    const sweep = await SweepsClient.retry(this.id);
    this.set(sweep);
    void this._jobs?.refresh().catch(() => undefined);
    return sweep;
  }

  /** DELETE sweeps/{id}; the states turn CANCELLED as the jobs model hears of it. */
  async cancel(): Promise<TritonAPI.ISweep> {
    const sweep = await SweepsClient.cancel(this.id);
    this.set(sweep);
    return sweep;
  }

  /** Is the jobs model live and does it list any of the sweep's array jobs? */
  jobsModelKnows(): boolean {
    const jobs = this._jobs;
    const sweep = this._sweep;
    if (!jobs || !sweep || !jobs.loaded || jobs.connection !== 'live') {
      return false;
    }
    const ids = new Set(sweep.jobs.map(job => job.id));
    for (const job of jobs.jobs.values()) {
      if (ids.has(arrayJobOf(job))) {
        return true;
      }
    }
    return false;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._clearTimer();
    this._jobs?.jobChanged.disconnect(this._onJobChanged, this);
    Signal.clearData(this);
  }

  private async _load(): Promise<void> {
    try {
      const sweep = await this._fetch(this.id);
      if (this._disposed) {
        return;
      }
      this._sweep = sweep;
      this._error = null;
      this._loaded = true;
    } catch (error) {
      if (this._disposed) {
        return;
      }
      this._error = error instanceof APIError ? error : new APIError(String(error), 0);
    }
    this._changed.emit();
  }

  private _onJobChanged(_: JobsModel, change: IJobChange): void {
    const sweep = this._sweep;
    if (!sweep || !sweep.jobs.some(job => job.id === arrayJobOf(change.current))) {
      return;
    }
    // A burst of task events (an array starting) costs one request.
    this._recheckTries = 0;
    this._setTimer(this._debounceMs);
  }

  /** After an answer: re-ask soon when it lags the jobs model; slowly when nobody else tells us. */
  private _schedule(): void {
    const sweep = this._sweep;
    if (this._disposed || this._timer !== null || this._inflight || !sweep || sweep.finished) {
      return;
    }
    if (this._jobs && staleAgainst(sweep, this._jobs) && this._recheckTries < 5) {
      this._recheckTries++;
      this._setTimer(this._recheckMs);
    } else if (!this.jobsModelKnows() || this._error) {
      this._setTimer(this._fallbackMs);
    }
  }

  private _setTimer(ms: number): void {
    this._clearTimer();
    this._timer = setTimeout(() => {
      this._timer = null;
      if (typeof document !== 'undefined' && document.hidden && this._sweep) {
        this._setTimer(this._fallbackMs); // a hidden tab asks again later
        return;
      }
      void this.refresh();
    }, ms);
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _jobs: JobsModel | null;
  private _fetch: (id: string) => Promise<TritonAPI.ISweep>;
  private _fallbackMs: number;
  private _debounceMs: number;
  private _recheckMs: number;
  private _recheckTries = 0;
  private _sweep: TritonAPI.ISweep | null;
  private _error: APIError | null = null;
  private _loaded = false;
  private _inflight: Promise<void> | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace SweepModel {
  export interface IOptions {
    id: string;
    /** The tab's jobs model: its changes of the sweep's array jobs trigger a re-read. */
    jobs?: JobsModel | null;
    /** What to show before the first answer (the widget's snapshot). */
    initial?: TritonAPI.ISweep | null;
    /** Where the sweep comes from; defaults to `SweepsClient.get`. */
    fetch?: (id: string) => Promise<TritonAPI.ISweep>;
    /** Read at once (default true). */
    auto?: boolean;
    /** The slow refresh while tasks are active and the jobs model knows nothing (default 30 s). */
    fallbackMs?: number;
    /** Wait after a job event before reading (default 0.5 s). */
    debounceMs?: number;
    /** Re-read after an answer that lags the jobs model (default 2.5 s, at most 5 times). */
    recheckMs?: number;
  }
}
