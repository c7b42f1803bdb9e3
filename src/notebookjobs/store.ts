/**
 * The progress of notebook runs (`GET notebook-jobs/{id}`: cell k of N, live output, failing cell),
 * shared by the notebook banner, the jobs panel rows and the job detail of one tab.
 *
 * Where the job is (pending, running on gpu1, ended) comes from the tab's JobsModel (pushed); only
 * which cell runs needs a request. A job is polled ONLY while one of the views watching it is on
 * screen and the job is active, a few seconds apart; the poll stands by while the views are hidden
 * or the browser tab is in the background, and ends with one last read when the job ends.
 */
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { NotebookJobsClient, TritonAPI } from '../api';
import { isActive } from '../jobs/format';
import { IJobChange, JobsModel } from '../jobs/model';

/** Is `node` on screen (attached, displayed, and the browser tab in front)? */
export function isShown(node: HTMLElement | null | undefined): boolean {
  if (!node || !node.isConnected || (typeof document !== 'undefined' && document.hidden)) {
    return false;
  }
  return node.getClientRects().length > 0;
}

interface IEntry {
  status: TritonAPI.INotebookJobStatus | null;
  error: string | null;
  watchers: Set<() => boolean>;
  poll: Poll | null;
  /** A read is under way (one at a time per job). */
  loading: Promise<TritonAPI.INotebookJobStatus | null> | null;
}

export class NotebookProgressStore implements IDisposable {
  constructor(options: NotebookProgressStore.IOptions = {}) {
    this._model = options.model ?? null;
    this._fetch = options.fetch ?? (id => NotebookJobsClient.status(id));
    this._intervalMs = options.intervalMs ?? 3000;
    this._model?.jobChanged.connect(this._onJobChanged, this);
  }

  /** Emits the id of a job whose progress changed. */
  get changed(): ISignal<this, string> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** The last progress read of job `id`, or null. */
  get(id: string): TritonAPI.INotebookJobStatus | null {
    return this._entries.get(id)?.status ?? null;
  }

  /** Why the last read of job `id` failed, or null. */
  error(id: string): string | null {
    return this._entries.get(id)?.error ?? null;
  }

  /** Is this job still queued or running (the pushed state first, else the last read)? */
  isActive(id: string): boolean {
    const job = this._model?.get(id);
    if (job) {
      return isActive(job.state);
    }
    const status = this.get(id);
    return status ? isActive(status.state) : true;
  }

  /**
   * Follow job `id` while `isVisible()` says the view is on screen. `eager`: read once now even if
   * the job already ended (the detail view shows a failing cell); otherwise ended jobs are not read.
   */
  watch(id: string, isVisible: () => boolean, options: { eager?: boolean } = {}): IDisposable {
    const entry = this._entry(id);
    entry.watchers.add(isVisible);
    if (options.eager && !entry.status && !entry.loading) {
      void this.refresh(id);
    }
    this._schedule(id);
    let disposed = false;
    return {
      get isDisposed() {
        return disposed;
      },
      dispose: () => {
        if (disposed) {
          return;
        }
        disposed = true;
        entry.watchers.delete(isVisible);
        this._schedule(id);
      }
    };
  }

  /** Read job `id` now (one read at a time per job). */
  refresh(id: string): Promise<TritonAPI.INotebookJobStatus | null> {
    const entry = this._entry(id);
    if (entry.loading) {
      return entry.loading;
    }
    entry.loading = this._fetch(id)
      .then(status => {
        entry.status = status;
        entry.error = null;
        return status;
      })
      .catch(reason => {
        entry.error = (reason as Error).message ?? String(reason);
        return entry.status;
      })
      .finally(() => {
        entry.loading = null;
        if (!this._disposed) {
          this._changed.emit(id);
          this._schedule(id);
        }
      });
    return entry.loading;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    for (const entry of this._entries.values()) {
      entry.poll?.dispose();
    }
    this._entries.clear();
    Signal.clearData(this);
  }

  /** Start the poll when a view watches an active job; end it otherwise. */
  private _schedule(id: string): void {
    const entry = this._entries.get(id);
    if (!entry || this._disposed) {
      return;
    }
    const wanted = entry.watchers.size > 0 && this.isActive(id);
    if (wanted && !entry.poll) {
      entry.poll = new Poll({
        factory: async () => {
          if (this._anyVisible(entry)) {
            await this.refresh(id);
          }
        },
        frequency: { interval: this._intervalMs, backoff: true, max: 60 * 1000 },
        name: `tritonml:notebook-job-${id}`,
        // Nothing on screen: no requests (the tick only looks again a few seconds later).
        standby: () => !this._anyVisible(entry) || 'when-hidden'
      });
    } else if (!wanted && entry.poll) {
      entry.poll.dispose();
      entry.poll = null;
    }
  }

  private _anyVisible(entry: IEntry): boolean {
    for (const visible of entry.watchers) {
      try {
        if (visible()) {
          return true;
        }
      } catch {
        // a view that went away
      }
    }
    return false;
  }

  private _onJobChanged(_: JobsModel, change: IJobChange): void {
    const entry = this._entries.get(change.current.id);
    if (!entry) {
      return;
    }
    const ended = change.previous && isActive(change.previous.state) && !isActive(change.current.state);
    if (ended && entry.watchers.size > 0) {
      // The last read: which cell failed, whether the output is there.
      void this.refresh(change.current.id);
    } else if (isActive(change.current.state) && entry.watchers.size > 0 && this._anyVisible(entry)) {
      // Started (or moved on): say so now rather than at the next tick.
      if (!change.previous || change.previous.state !== change.current.state) {
        void this.refresh(change.current.id);
      }
    }
    this._schedule(change.current.id);
  }

  private _entry(id: string): IEntry {
    let entry = this._entries.get(id);
    if (!entry) {
      entry = { status: null, error: null, watchers: new Set(), poll: null, loading: null };
      this._entries.set(id, entry);
    }
    return entry;
  }

  private _model: JobsModel | null;
  private _fetch: (id: string) => Promise<TritonAPI.INotebookJobStatus>;
  private _intervalMs: number;
  private _entries = new Map<string, IEntry>();
  private _changed = new Signal<this, string>(this);
  private _disposed = false;
}

export namespace NotebookProgressStore {
  export interface IOptions {
    /** The tab's jobs model: where the job's state comes from. */
    model?: JobsModel | null;
    /** Reads one run's progress; defaults to `NotebookJobsClient.status`. */
    fetch?: (id: string) => Promise<TritonAPI.INotebookJobStatus>;
    /** Milliseconds between reads while a view shows an active run (default 3000). */
    intervalMs?: number;
  }
}
