/**
 * "Use in a job": the hand-over from the catalog to the job dialog. The `tritonml:use-in-job`
 * command stores the chosen entry here, emits `requested`, and opens `tritonml:new-job` pre-filled
 * by `jobSpecFor` (the entry's Python snippet and the environment that makes it work offline).
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

/** A job spec that uses `entry`: its Python snippet, and the environment it needs in the job. */
export function jobSpecFor(entry: TritonAPI.ICatalogEntryDetail): Partial<TritonAPI.IJobSpec> {
  const env: { [name: string]: string } = {};
  if (entry.hf) {
    if (entry.hf.hf_home) {
      env.HF_HOME = entry.hf.hf_home;
    } else {
      env.HF_HUB_CACHE = entry.hf.hub_dir;
    }
    env.HF_HUB_OFFLINE = '1';
    if (entry.hf.repo_type === 'model') {
      env.TRANSFORMERS_OFFLINE = '1';
    } else {
      env.HF_DATASETS_OFFLINE = '1';
    }
  } else {
    env.DATA_PATH = entry.path;
  }
  const base = entry.name.split('/').pop() ?? entry.name;
  const name = ('use-' + base).replace(/[^A-Za-z0-9._+-]+/g, '-').slice(0, 64);
  return { name, env, code: entry.snippets.python };
}
