/**
 * Follow one log stream of a job: an incremental tail over `GET jobs/{id}/log?offset=N`.
 *
 * Only the bytes after the last offset are ever asked for (never the whole file again). It polls
 * only while `setActive(true)` (the job is queued or running and someone looks), and when the job
 * ends `setActive(false)` makes exactly one final read so the last lines are not lost. The detail
 * view and the notebook widget both use this.
 */
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, JobsClient, TritonAPI } from '../api';

export type LogStream = 'stdout' | 'stderr';

export type LogFetch = (id: string, stream: LogStream, offset: number) => Promise<TritonAPI.ILogChunk>;

export class LogFollower implements IDisposable {
  constructor(options: LogFollower.IOptions) {
    this.jobId = options.jobId;
    this.stream = options.stream;
    this._fetch = options.fetch ?? ((id, stream, offset) => JobsClient.log(id, stream, offset));
    this._maxChars = options.maxChars ?? 256 * 1024;
    this._tailBytes = options.tailBytes ?? this._maxChars;
    this._poll = new Poll({
      auto: false,
      factory: () => this.read(),
      frequency: { interval: options.intervalMs ?? 2000, backoff: true, max: 30 * 1000 },
      name: `tritonml:log:${this.jobId}:${this.stream}`,
      standby: 'when-hidden'
    });
  }

  readonly jobId: string;
  readonly stream: LogStream;

  /** What was read so far (the end of it, once longer than maxChars). */
  get text(): string {
    return this._text;
  }

  /** Where the next read starts (bytes into the file). */
  get offset(): number {
    return this._offset;
  }

  /** The file does not exist (yet): the job has not started, or wrote nothing there. */
  get missing(): boolean {
    return this._missing;
  }

  /** The beginning was dropped to keep memory bounded. */
  get truncated(): boolean {
    return this._truncated;
  }

  get error(): APIError | null {
    return this._error;
  }

  /** Has anything been read yet (even an empty or missing file)? */
  get loaded(): boolean {
    return this._loaded;
  }

  get following(): boolean {
    return this._active;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** The last `n` lines of the text (for the notebook widget). */
  tail(n: number): string {
    const text = this._text.replace(/\n$/, '');
    if (!text) {
      return '';
    }
    const lines = text.split('\n');
    return lines.slice(Math.max(0, lines.length - n)).join('\n');
  }

  /**
   * Follow (poll) while `active`; when it becomes false, stop after one final read. Calling it with
   * the same value again does nothing, so views may call it on every render.
   */
  setActive(active: boolean): void {
    if (this._disposed || (this._activeSet && active === this._active)) {
      return;
    }
    this._activeSet = true;
    this._active = active;
    if (active) {
      void this._poll.start();
    } else {
      void this._poll.stop();
      // The final read must start after the job ended: a read already in flight may have begun
      // before the last lines were written, so wait for it and read once more.
      const inFlight = this._reading ?? Promise.resolve(false);
      inFlight
        .catch(() => false)
        .then(() => this._finalRead())
        .catch(() => undefined); // the error is shown through `error`
    }
  }

  /**
   * Read everything new since the last offset (in as many chunks as the server hands out) and
   * resolve with whether anything new came. Concurrent calls share one read.
   */
  read(): Promise<boolean> {
    if (this._reading) {
      return this._reading;
    }
    this._reading = this._readAll().finally(() => {
      this._reading = null;
    });
    return this._reading;
  }

  /**
   * The last read after the end. On a shared filesystem (NFS, Lustre) the lines a compute node wrote
   * last can show up here a moment after Slurm reports the end: while the log is missing or empty,
   * look again a few times, a second apart.
   */
  private async _finalRead(): Promise<void> {
    for (let attempt = 0; attempt < 5 && !this._disposed; attempt++) {
      await this.read();
      if (!this._missing && this._text.length > 0) {
        return;
      }
      await new Promise(resolve => setTimeout(resolve, 1000));
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async _readAll(): Promise<boolean> {
    let grew = false;
    try {
      // The server caps each answer (64 KiB); a big backlog comes in a few rounds, not forever.
      for (let round = 0; round < 16 && !this._disposed; round++) {
        const chunk = await this._fetch(this.jobId, this.stream, this._offset);
        if (this._disposed) {
          return grew;
        }
        this._missing = chunk.missing;
        if (chunk.offset < this._offset) {
          // The file was replaced (a requeued job starts a new log): start over.
          this._text = '';
        }
        if (chunk.data) {
          this._append(chunk.data);
          grew = true;
        }
        const advanced = chunk.offset !== this._offset;
        this._offset = chunk.offset;
        if (chunk.size - chunk.offset > this._tailBytes) {
          // Far behind (a big log opened late): skip to its last tailBytes instead of reading it all.
          this._offset = chunk.size - this._tailBytes;
          this._text = '';
          this._truncated = true;
          this._skipPartialLine = true;
          continue;
        }
        if (!advanced || chunk.offset >= chunk.size) {
          break;
        }
      }
      this._error = null;
    } catch (error) {
      this._error = error instanceof APIError ? error : new APIError(String(error), 0);
      this._loaded = true;
      this._changed.emit();
      throw error;
    }
    this._loaded = true;
    this._changed.emit();
    return grew;
  }

  private _append(data: string): void {
    if (this._skipPartialLine) {
      // After a jump into the middle of the file, the first line is a fragment.
      const newline = data.indexOf('\n');
      if (newline === -1) {
        return;
      }
      data = data.slice(newline + 1);
      this._skipPartialLine = false;
    }
    this._text += data;
    if (this._text.length > this._maxChars) {
      // Cut at a line start so the first line shown is whole.
      let cut = this._text.length - this._maxChars;
      const newline = this._text.indexOf('\n', cut);
      if (newline !== -1 && newline - cut < 1024) {
        cut = newline + 1;
      }
      this._text = this._text.slice(cut);
      this._truncated = true;
    }
  }

  private _fetch: LogFetch;
  private _maxChars: number;
  private _tailBytes: number;
  private _skipPartialLine = false;
  private _poll: Poll;
  private _text = '';
  private _offset = 0;
  private _missing = false;
  private _truncated = false;
  private _loaded = false;
  private _error: APIError | null = null;
  private _active = false;
  private _activeSet = false;
  private _reading: Promise<boolean> | null = null;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace LogFollower {
  export interface IOptions {
    jobId: string;
    stream: LogStream;
    /** Defaults to `JobsClient.log`; tests pass a fake. */
    fetch?: LogFetch;
    /** How often to look for new lines while following (default 2 s, backing off on errors). */
    intervalMs?: number;
    /** Keep at most this many characters in memory (default 256 Ki). */
    maxChars?: number;
    /** When further behind than this many bytes, skip to the end (default maxChars). */
    tailBytes?: number;
  }
}
