/**
 * The cluster summary, polled from the server. One model per browser tab, however many views show it;
 * the poll backs off on errors and stands by while the tab is hidden (as jupyter-resource-usage does).
 */
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, TritonAPI, TritonClient } from '../api';

export class ClusterModel implements IDisposable {
  constructor(options: ClusterModel.IOptions = {}) {
    this._fetch = options.fetch ?? (fresh => TritonClient.cluster(undefined, fresh));
    this._poll = new Poll({
      auto: options.auto ?? true,
      factory: () => this._load(),
      frequency: {
        interval: (options.refreshSeconds ?? 30) * 1000,
        backoff: true,
        max: 5 * 60 * 1000
      },
      name: 'tritonml:cluster',
      // Only while someone looks: the sidebar open (active) in a visible browser tab.
      standby: () => (this._active ? 'when-hidden' : true)
    });
  }

  get summary(): TritonAPI.IClusterSummary | null {
    return this._summary;
  }

  /** The last failure, or null once a request succeeded again. */
  get error(): APIError | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** When the last successful answer came. */
  get updated(): Date | null {
    return this._updated;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** Ask now, outside the schedule (the refresh button); resolves once the answer is in. */
  async refresh(): Promise<void> {
    this._fresh = true; // the server's summary is shared for a minute: ask it for a new one
    if (this._poll.state.phase === 'constructed') {
      await this._poll.start();
    } else {
      await this._poll.refresh();
    }
    await this._poll.tick;
  }

  /** Whether a view shows the summary; inactive, the poll stands by. Shown again, it asks at once. */
  get active(): boolean {
    return this._active;
  }

  set active(value: boolean) {
    if (value === this._active) {
      return;
    }
    this._active = value;
    if (value && this._poll.state.phase !== 'constructed' && !this._poll.isDisposed) {
      void this._poll.refresh();
    }
  }

  set refreshSeconds(seconds: number) {
    this._poll.frequency = { ...this._poll.frequency, interval: Math.max(5, seconds) * 1000 };
  }

  dispose(): void {
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async _load(): Promise<void> {
    this._loading = true;
    this._changed.emit();
    try {
      const fresh = this._fresh;
      this._fresh = false;
      this._summary = await this._fetch(fresh);
      this._error = null;
      this._updated = new Date();
    } catch (error) {
      this._error = error instanceof APIError ? error : new APIError(String(error), 0, null);
      // Rethrow so the poll backs off while the scheduler is down.
      throw error;
    } finally {
      this._loading = false;
      this._changed.emit();
    }
  }

  private _fetch: (fresh: boolean) => Promise<TritonAPI.IClusterSummary>;
  private _fresh = false;
  private _active = true;
  private _poll: Poll;
  private _summary: TritonAPI.IClusterSummary | null = null;
  private _error: APIError | null = null;
  private _loading = false;
  private _updated: Date | null = null;
  private _changed = new Signal<this, void>(this);
}

export namespace ClusterModel {
  export interface IOptions {
    refreshSeconds?: number;
    /** Start polling at once (default true); tests pass false. */
    auto?: boolean;
    /** Where data comes from; defaults to the REST API. */
    fetch?: (fresh: boolean) => Promise<TritonAPI.IClusterSummary>;
  }
}
