/**
 * Whether the server side of tritonml-lab started (GET tritonml/status), and the sentence the
 * sidebars show when it did not. Kept free of widgets so it is testable on its own.
 */
import { ServerConnection } from '@jupyterlab/services';

import { APIError, requestAPI, TritonAPI } from '../api';

/** The answer of GET tritonml/status; `reason`: why it could not start, in words an admin can act on. */
export type IStartupStatus = TritonAPI.IStartupStatus;

/** The banner text, or null when there is nothing to say (started, or the server is just away). */
export function problemOf(status: IStartupStatus | null, error: unknown = null): string | null {
  if (status) {
    return status.ok ? null : `tritonml-lab could not start: ${status.reason || 'no reason given'} — tell your admins`;
  }
  if (error instanceof APIError && error.status === 404) {
    // The front end is installed but the server side is not loaded at all (not installed or not enabled).
    return (
      'tritonml-lab could not start: its server extension is not enabled on this Jupyter server ' +
      '(`jupyter server extension list` shows it) — tell your admins'
    );
  }
  return null; // a network error: every panel already says the server does not answer
}

/** Ask the server once; resolves to the banner text or null. */
export async function fetchProblem(settings?: ServerConnection.ISettings): Promise<string | null> {
  try {
    return problemOf(await requestAPI<IStartupStatus>('status', {}, settings));
  } catch (error) {
    return problemOf(null, error);
  }
}
