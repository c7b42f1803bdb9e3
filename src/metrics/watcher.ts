/**
 * The GPU/CPU samples of the jobs someone looks at, ONE watcher per tab (the metrics plugin provides
 * it as `IMetricsWatcher`). Ref-counted per job: the first watcher of a job sends `watch-metrics` on
 * the push channel, disposing the last handle sends `unwatch-metrics`. Watches do not survive a
 * reconnect, so they are sent again whenever the channel opens (the server answers with the
 * history). While the channel is down, `GET jobs/{id}/metrics` is polled every few seconds instead.
 */
import { IDisposable } from '@lumino/disposable';

import { JobsClient, TritonAPI } from '../api';
import { ChannelState, EventsChannel, ServerEvent } from '../events/channel';
import { IMetricsStream, MetricsHandle, MetricsStore } from './stream';

export class MetricsWatcher implements IDisposable {
  constructor(options: MetricsWatcher.IOptions) {
    this._channel = options.channel;
    this._fetch = options.fetch ?? ((id, maxPoints) => JobsClient.metrics(id, maxPoints));
    this._pollMs = options.pollMs ?? 5000;
    this._channel.message.connect(this._onMessage, this);
    this._channel.stateChanged.connect(this._onChannelState, this);
  }

  /** Follow job `id`'s samples; dispose the stream when done. */
  watch(id: string): IMetricsStream {
    let entry = this._entries.get(id);
    if (!entry) {
      entry = { store: new MetricsStore(id), refs: 0 };
      this._entries.set(id, entry);
      if (this._channel.state === 'open') {
        this._send('watch-metrics', id);
      } else if (this._channel.state === 'closed') {
        void this._poll(id);
      }
      this._updatePoll();
    }
    entry.refs++;
    const store = entry.store;
    return new MetricsHandle(store, () => {
      const current = this._entries.get(id);
      if (!current || current.store !== store || --current.refs > 0) {
        return;
      }
      this._entries.delete(id);
      store.dispose();
      if (this._channel.state === 'open') {
        this._send('unwatch-metrics', id);
      }
      this._updatePoll();
    });
  }

  /** Job ids someone watches, with their watcher counts (for tests). */
  get watchers(): ReadonlyMap<string, number> {
    return new Map([...this._entries].map(([id, entry]) => [id, entry.refs]));
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._channel.message.disconnect(this._onMessage, this);
    this._channel.stateChanged.disconnect(this._onChannelState, this);
    this._updatePoll();
    for (const entry of this._entries.values()) {
      entry.store.dispose();
    }
    this._entries.clear();
  }

  private _onMessage(_: EventsChannel, message: ServerEvent): void {
    if (message.event === 'metrics-history') {
      this._entries.get(String(message.data.id))?.store.applyHistory(message.data);
    } else if (message.event === 'metrics') {
      this._entries.get(String(message.data.id))?.store.applyLive(message.data);
    }
  }

  private _onChannelState(_: EventsChannel, state: ChannelState): void {
    if (state === 'open') {
      for (const id of this._entries.keys()) {
        this._send('watch-metrics', id);
      }
    }
    this._updatePoll();
  }

  private _send(action: TritonAPI.IClientAction['action'], id: string): void {
    this._channel.send({ action, id });
  }

  /** Poll the watched jobs while the channel is down; stop when it is back. */
  private _updatePoll(): void {
    // While reconnecting too: a reconnect that keeps failing may take a minute between tries.
    const state = this._channel.state;
    const wanted = !this._disposed && state !== 'open' && state !== 'disposed' && this._entries.size > 0;
    if (wanted && this._timer === null) {
      this._timer = setInterval(() => {
        if (typeof document !== 'undefined' && document.hidden) {
          return;
        }
        for (const id of this._entries.keys()) {
          void this._poll(id);
        }
      }, this._pollMs);
    } else if (!wanted && this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }

  private async _poll(id: string): Promise<void> {
    const store = this._entries.get(id)?.store;
    if (!store) {
      return;
    }
    try {
      const data = await this._fetch(id, store.maxPoints);
      if (this._entries.get(id)?.store === store && this._channel.state !== 'open') {
        store.applyHistory(data);
      }
    } catch (error) {
      if (this._entries.get(id)?.store === store) {
        store.setError(error instanceof Error ? error.message : String(error));
      }
    }
  }

  private _channel: EventsChannel;
  private _fetch: (id: string, maxPoints: number) => Promise<TritonAPI.IMetrics>;
  private _pollMs: number;
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _entries = new Map<string, { store: MetricsStore; refs: number }>();
  private _disposed = false;
}

export namespace MetricsWatcher {
  export interface IOptions {
    /** The tab's push channel. */
    channel: EventsChannel;
    /** Where samples come from while the channel is down; defaults to `JobsClient.metrics`. */
    fetch?: (id: string, maxPoints: number) => Promise<TritonAPI.IMetrics>;
    /** Poll interval while the channel is down (default 5 s). */
    pollMs?: number;
  }
}
