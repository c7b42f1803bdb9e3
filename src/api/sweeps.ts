/** Sweeps: list, submit, results table, retry, cancel (tritonml_lab/sweeps/). */
import { ServerConnection } from '@jupyterlab/services';

import { queryString, requestAPI, Schemas, segment } from './http';

/** A point value: a JSON scalar. */
export type SweepValue = number | string | boolean | null;
/** What POST sweeps accepts: the code, exactly one of grid, random or optuna, and resource keys. */
export type ISweepRequest = Schemas['SweepSubmit'];
/** One point of a sweep, as its newest attempt ran it. */
export type ISweepTask = Schemas['SweepTask'];
export type ISweepJob = Schemas['SweepJobView'];
/** GET sweeps/{id}: the sweep and its results table, sorted by the metric (best first). */
/** The notebook widget's snapshot sets `truncated` when it kept only the first rows (not the API). */
export type ISweep = Schemas['SweepView'] & { truncated?: boolean };
export type SweepSearch = ISweepSummary['search'];
/** One sweep of GET sweeps (from its manifest; no states). */
export type ISweepSummary = Schemas['SweepSummary'];
/** POST sweeps/{id}/retry: which ended tasks (default: the failed ones), and resource changes. */
export type ISweepRetry = Schemas['SweepRetry'];

export const SweepsClient = {
  /** My newest sweeps; with `job`, only the sweep that array job (or task) belongs to. */
  list(job?: string, settings?: ServerConnection.ISettings): Promise<Schemas['SweepList']> {
    return requestAPI<Schemas['SweepList']>('sweeps' + queryString({ job }), {}, settings);
  },

  get(id: string, settings?: ServerConnection.ISettings): Promise<ISweep> {
    return requestAPI<ISweep>(`sweeps/${segment(id)}`, {}, settings);
  },

  submit(request: ISweepRequest, settings?: ServerConnection.ISettings): Promise<ISweep> {
    return requestAPI<ISweep>('sweeps', { method: 'POST', body: JSON.stringify(request) }, settings);
  },

  /** Run the failed tasks (or `body.indices`) again as a new array job of the same sweep. */
  retry(id: string, body: ISweepRetry = {}, settings?: ServerConnection.ISettings): Promise<ISweep> {
    return requestAPI<ISweep>(`sweeps/${segment(id)}/retry`, { method: 'POST', body: JSON.stringify(body) }, settings);
  },

  /** Cancel every array job of the sweep with tasks still queued or running (idempotent). */
  cancel(id: string, settings?: ServerConnection.ISettings): Promise<ISweep> {
    return requestAPI<ISweep>(`sweeps/${segment(id)}`, { method: 'DELETE' }, settings);
  }
};
