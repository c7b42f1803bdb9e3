/**
 * State of the shared datasets and models sidebar: the search, the listing, the open entry.
 *
 * One request (no `kind`) fills both the Models and the Datasets tab, so switching tabs is instant
 * and each tab shows its count for the current search. While the server's background scan is still
 * computing sizes (`scanning`), the listing is asked again with a growing interval (1 s up to 15 s);
 * once every size is known the poll stands by. It also stands by while the panel or the browser tab
 * is hidden, and backs off on errors.
 */
import { IDisposable } from '@lumino/disposable';
import { Debouncer, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, TritonAPI, TritonClient } from '../api';
import { buildQuery, entriesOfKind, queryKey } from './format';

const SCAN_INTERVAL_MIN = 1000;
const SCAN_INTERVAL_MAX = 15000;

function asAPIError(error: unknown): APIError {
  return error instanceof APIError ? error : new APIError(String(error), 0, null);
}

export class CatalogModel implements IDisposable {
  constructor(options: CatalogModel.IOptions = {}) {
    this._fetchListing = options.fetchListing ?? (query => TritonClient.catalog(query));
    this._fetchEntry = options.fetchEntry ?? (id => TritonClient.catalogEntry(id));
    this._active = options.active ?? false;
    this._poll = new Poll({
      auto: options.auto ?? true,
      factory: () => this._load(),
      frequency: { interval: SCAN_INTERVAL_MIN, backoff: true, max: 60 * 1000 },
      name: 'tritonml:catalog',
      // Ask only while someone looks and something is still being computed (or nothing came yet).
      standby: () => (!this._active || !this._needsPolling() ? true : 'when-hidden')
    });
    this._debouncer = new Debouncer(() => this.refresh(), options.debounceMs ?? 300);
  }

  // -- list ------------------------------------------------------------------------------------
  get kind(): TritonAPI.CatalogKind {
    return this._kind;
  }

  set kind(kind: TritonAPI.CatalogKind) {
    if (kind !== this._kind) {
      this._kind = kind;
      this._changed.emit();
    }
  }

  /** The search box text; the server is asked once typing pauses. */
  get search(): string {
    return this._search;
  }

  set search(text: string) {
    if (text === this._search) {
      return;
    }
    this._search = text;
    this._changed.emit();
    void this._debouncer.invoke();
  }

  /** A tag filter (set from an entry's tags), or null. */
  get tag(): string | null {
    return this._tag;
  }

  set tag(tag: string | null) {
    if (tag === this._tag) {
      return;
    }
    this._tag = tag;
    this._changed.emit();
    void this.refresh();
  }

  /** The size filter: one of SIZE_RANGES' ids, '' for any size. */
  get size(): string {
    return this._size;
  }

  set size(size: string) {
    if (size === this._size) {
      return;
    }
    this._size = size;
    this._changed.emit();
    void this.refresh();
  }

  get query(): TritonAPI.ICatalogQuery {
    return buildQuery({ search: this._search, tag: this._tag, size: this._size });
  }

  get listing(): TritonAPI.ICatalogListing | null {
    return this._listing;
  }

  /** True when the listing shown answers the current search (false while a new one is coming). */
  get current(): boolean {
    return this._listingKey === queryKey(this.query);
  }

  /** Entries of the current tab. */
  get entries(): TritonAPI.ICatalogEntry[] {
    return this._listing ? entriesOfKind(this._listing.entries, this._kind) : [];
  }

  count(kind: TritonAPI.CatalogKind): number | null {
    return this._listing ? entriesOfKind(this._listing.entries, kind).length : null;
  }

  /** The last failure of the listing, or null once a request succeeded again. */
  get error(): APIError | null {
    return this._error;
  }

  get loading(): boolean {
    return this._inFlight > 0;
  }

  // -- detail ----------------------------------------------------------------------------------
  get selectedId(): string | null {
    return this._selectedId;
  }

  /** The listing's row of the open entry (shown while its detail loads). */
  get selectedEntry(): TritonAPI.ICatalogEntry | null {
    const id = this._selectedId;
    return (id && this._listing?.entries.find(e => e.id === id)) || null;
  }

  get detail(): TritonAPI.ICatalogEntryDetail | null {
    return this._detail && this._detail.id === this._selectedId ? this._detail : null;
  }

  get detailError(): APIError | null {
    return this._detailError;
  }

  /** Show an entry's detail; resolves once it is loaded (or failed). */
  async open(id: string): Promise<void> {
    if (this._selectedId !== id) {
      this._selectedId = id;
      this._detailError = null;
      this._changed.emit();
    }
    await this._loadDetail(id);
  }

  /** Back to the list. */
  close(): void {
    if (this._selectedId !== null) {
      this._selectedId = null;
      this._detailError = null;
      this._changed.emit();
    }
  }

  // -- polling ---------------------------------------------------------------------------------
  /** Whether the panel is visible; the poll stands by while it is not. */
  get active(): boolean {
    return this._active;
  }

  set active(active: boolean) {
    if (active === this._active) {
      return;
    }
    this._active = active;
    if (active && this._needsPolling()) {
      void this.refresh();
    }
  }

  /** Ask now (search changes, the refresh button); resolves once the answer is in. */
  async refresh(): Promise<void> {
    this._scanInterval = SCAN_INTERVAL_MIN;
    this._forceNext = true;
    if (this._poll.state.phase === 'constructed') {
      await this._poll.start();
    } else {
      await this._poll.refresh();
    }
    await this._poll.tick;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._debouncer.dispose();
    this._poll.dispose();
    Signal.clearData(this);
  }

  private _needsPolling(): boolean {
    return (
      this._forceNext ||
      this._listing === null ||
      this._error !== null ||
      !this.current ||
      this._listing.scanning ||
      this.detail?.size_status === 'pending'
    );
  }

  private async _load(): Promise<void> {
    this._forceNext = false;
    const query = this.query;
    const key = queryKey(query);
    this._inFlight += 1;
    this._changed.emit();
    try {
      const listing = await this._fetchListing(query);
      if (key === queryKey(this.query)) {
        this._listing = listing;
        this._listingKey = key;
        this._error = null;
      }
      // While sizes are being computed, ask again, less often each time.
      if (this._listing?.scanning) {
        this._poll.frequency = { ...this._poll.frequency, interval: this._scanInterval };
        this._scanInterval = Math.min(this._scanInterval * 1.5, SCAN_INTERVAL_MAX);
      }
      const open = this.detail;
      if (open && open.size_status === 'pending') {
        await this._loadDetail(open.id);
      }
    } catch (error) {
      this._error = asAPIError(error);
      throw error; // the poll backs off
    } finally {
      this._inFlight -= 1;
      this._changed.emit();
    }
  }

  private async _loadDetail(id: string): Promise<void> {
    this._inFlight += 1;
    this._changed.emit();
    try {
      const detail = await this._fetchEntry(id);
      if (this._selectedId === id) {
        this._detail = detail;
        this._detailError = null;
      }
    } catch (error) {
      if (this._selectedId === id) {
        this._detailError = asAPIError(error);
      }
    } finally {
      this._inFlight -= 1;
      this._changed.emit();
    }
  }

  private _fetchListing: (query: TritonAPI.ICatalogQuery) => Promise<TritonAPI.ICatalogListing>;
  private _fetchEntry: (id: string) => Promise<TritonAPI.ICatalogEntryDetail>;
  private _poll: Poll;
  private _debouncer: Debouncer;
  private _active: boolean;
  private _forceNext = false;
  private _scanInterval = SCAN_INTERVAL_MIN;
  private _kind: TritonAPI.CatalogKind = 'model';
  private _search = '';
  private _tag: string | null = null;
  private _size = '';
  private _listing: TritonAPI.ICatalogListing | null = null;
  private _listingKey = '';
  private _error: APIError | null = null;
  private _inFlight = 0;
  private _selectedId: string | null = null;
  private _detail: TritonAPI.ICatalogEntryDetail | null = null;
  private _detailError: APIError | null = null;
  private _changed = new Signal<this, void>(this);
}

export namespace CatalogModel {
  export interface IOptions {
    /** Start the poll at once (default true); tests pass false and call refresh(). */
    auto?: boolean;
    /** Whether the panel starts visible (default false: nothing is asked until it is shown). */
    active?: boolean;
    /** Milliseconds of quiet typing before the search is sent (default 300). */
    debounceMs?: number;
    fetchListing?: (query: TritonAPI.ICatalogQuery) => Promise<TritonAPI.ICatalogListing>;
    fetchEntry?: (id: string) => Promise<TritonAPI.ICatalogEntryDetail>;
  }
}
