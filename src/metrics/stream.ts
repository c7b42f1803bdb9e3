/**
 * The accumulated samples of one job, per node, fed by the MetricsWatcher (push channel, or its
 * fallback poll). The watcher keeps one store per watched job and hands each viewer a handle
 * (`IMetricsStream`); disposing the last handle stops the watch.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { TritonAPI } from '../api';
import { applyHistory, INodeSeries, MAX_POINTS, mergeSamples } from './series';

/** What a watcher of a job's metrics sees. Dispose it when done (the watch is ref-counted). */
export interface IMetricsStream extends IDisposable {
  readonly id: string;
  /** Per node, sorted by name. */
  readonly nodes: INodeSeries[];
  /** Has a history (or a first poll) arrived? */
  readonly loaded: boolean;
  /** Why the last fallback request failed, or null. */
  readonly error: string | null;
  /** Emits after each batch of new samples. */
  readonly changed: ISignal<IMetricsStream, void>;
}

/** One job's series, shared by all its watchers. */
export class MetricsStore {
  constructor(
    readonly id: string,
    readonly maxPoints = MAX_POINTS
  ) {}

  get nodes(): INodeSeries[] {
    if (this._sorted === null) {
      this._sorted = [...this._nodes.values()].sort((a, b) => a.node.localeCompare(b.node));
    }
    return this._sorted;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get error(): string | null {
    return this._error;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** A history (on watch, after a reconnect, or from GET jobs/{id}/metrics). */
  applyHistory(data: TritonAPI.IMetrics): void {
    for (const [name, node] of Object.entries(data.nodes ?? {})) {
      const current = this._nodes.get(name);
      this._set({
        node: name,
        header: node.header ?? current?.header ?? null,
        samples: applyHistory(current?.samples ?? [], node.samples ?? [], this.maxPoints),
        ended: !!node.ended
      });
    }
    this._loaded = true;
    this._error = null;
    this._changed.emit();
  }

  /** New samples of one node. */
  applyLive(data: TritonAPI.IMetricsLive): void {
    const current = this._nodes.get(data.node);
    this._set({
      node: data.node,
      header: data.header ?? current?.header ?? null,
      samples: mergeSamples(current?.samples ?? [], data.samples ?? [], this.maxPoints),
      ended: current?.ended ?? false
    });
    this._changed.emit();
  }

  setError(message: string | null): void {
    if (message !== this._error) {
      this._error = message;
      this._changed.emit();
    }
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _set(series: INodeSeries): void {
    this._nodes.set(series.node, series);
    this._sorted = null;
  }

  private _nodes = new Map<string, INodeSeries>();
  private _sorted: INodeSeries[] | null = null;
  private _loaded = false;
  private _error: string | null = null;
  private _changed = new Signal<this, void>(this);
}

/** A watcher's view of a shared store; `onDispose` tells the owner (ref count). */
export class MetricsHandle implements IMetricsStream {
  constructor(
    private _store: MetricsStore,
    private _onDispose: () => void
  ) {
    _store.changed.connect(this._forward, this);
  }

  get id(): string {
    return this._store.id;
  }

  get nodes(): INodeSeries[] {
    return this._store.nodes;
  }

  get loaded(): boolean {
    return this._store.loaded;
  }

  get error(): string | null {
    return this._store.error;
  }

  get changed(): ISignal<IMetricsStream, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._store.changed.disconnect(this._forward, this);
    Signal.clearData(this);
    this._onDispose();
  }

  private _forward(): void {
    this._changed.emit();
  }

  private _disposed = false;
  private _changed = new Signal<IMetricsStream, void>(this);
}
