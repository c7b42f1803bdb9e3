/**
 * "Use in a job": the hand-over from the catalog to the job dialog.
 *
 * The job dialog comes with the jobs feature. Until then the `tritonml:use-in-job` command stores
 * the chosen entry here and emits `requested`; the dialog will read `last` (or connect to the
 * signal) to pre-fill its data and environment lines from the entry's snippets.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { TritonAPI } from '../api';

class UseInJobBridge {
  /** The entry most recently chosen with "Use in a job", or null. */
  get last(): TritonAPI.ICatalogEntryDetail | null {
    return this._last;
  }

  /** Emits each entry chosen with "Use in a job". */
  get requested(): ISignal<this, TritonAPI.ICatalogEntryDetail> {
    return this._requested;
  }

  request(entry: TritonAPI.ICatalogEntryDetail): void {
    this._last = entry;
    this._requested.emit(entry);
  }

  private _last: TritonAPI.ICatalogEntryDetail | null = null;
  private _requested = new Signal<this, TritonAPI.ICatalogEntryDetail>(this);
}

/** The one bridge of this page. */
export const useInJob = new UseInJobBridge();
