/** A job's profile (--profile, issue 25): GET jobs/{id}/profile, and the URL of its trace. */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE, requestAPI, Schemas, segment } from './http';

export type IJobProfile = Schemas['JobProfile'];
export type IProfileSummary = Schemas['ProfileSummary'];
export type IProfileOp = Schemas['ProfileOp'];

export const ProfileClient = {
  get(id: string, settings?: ServerConnection.ISettings): Promise<IJobProfile> {
    return requestAPI<IJobProfile>(`jobs/${segment(id)}/profile`, {}, settings);
  },

  /** The trace's download URL (the Chrome trace JSON, gzip, or the .nsys-rep). */
  traceUrl(id: string, settings: ServerConnection.ISettings = ServerConnection.makeSettings()): string {
    return URLExt.join(settings.baseUrl, API_NAMESPACE, 'jobs', segment(id), 'profile', 'trace');
  }
};
