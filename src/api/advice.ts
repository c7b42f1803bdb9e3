/** Right-sized jobs: a job's suggested resources, my efficiency report, and the live advice event. */
import { ServerConnection } from '@jupyterlab/services';

import { queryString, requestAPI, Schemas, segment, IServerEvent } from './http';

/** GET jobs/{id}/suggestion: the spec to resubmit and each resource's verdict (null: no data). */
export type ISuggestion = Schemas['Suggestion'];
export type ISuggestionChange = Schemas['Change'];
/** GET my-efficiency?days=N. */
export type IUsageReport = Schemas['UsageReport'];
export type ISaving = Schemas['Saving'];
/** GET jobs/{id}/spread: an array job's tasks as a whole. */
export type ISpread = Schemas['Spread'];

/** One rule that fired (tritonml_lab/advice/rules.py Finding). */
export type IAdviceFinding = Schemas['AdviceFinding'];

/** The "advice" event of the push channel: once per running job that crossed a red flag. */
export type IAdviceLive = Schemas['AdviceLive'];

export type IAdviceEvent = Extract<IServerEvent, { event: 'advice' }>;

export const AdviceClient = {
  suggestion(id: string, settings?: ServerConnection.ISettings): Promise<ISuggestion> {
    return requestAPI<ISuggestion>(`jobs/${segment(id)}/suggestion`, {}, settings);
  },

  /** The spread over the tasks of array job `id` (or of the array of task `id`). */
  spread(id: string, settings?: ServerConnection.ISettings): Promise<ISpread> {
    return requestAPI<ISpread>(`jobs/${segment(id)}/spread`, {}, settings);
  },

  /** `fresh`: ask sacct again instead of the server's cached report. */
  report(days = 30, fresh = false, settings?: ServerConnection.ISettings): Promise<IUsageReport> {
    return requestAPI<IUsageReport>(
      'my-efficiency' + queryString({ days, fresh: fresh ? 1 : undefined }),
      {},
      settings
    );
  }
};
