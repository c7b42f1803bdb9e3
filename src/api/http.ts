/**
 * The one way the front end calls the tritonml-lab REST API: `requestAPI` joins paths onto the
 * server's base URL (Open OnDemand serves us under /node/HOST/PORT/) and turns errors into `APIError`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { components } from './schema';

/** The schemas of tritonml_lab/openapi.yaml, generated from the server's pydantic models (dev/gen-api). */
export type Schemas = components['schemas'];

/** Every message of the push channel (tritonml_lab/server/event_models.py), told apart by `event`. */
export type IServerEvent = Schemas['ServerEvent'];
/** What a tab may send on the push channel besides the text "ping". */
export type IClientAction = Schemas['ClientAction'];

/** The JSON body of every error the server sends. */
export type IErrorBody = Schemas['ErrorBody'];

/** An error answer of the API, carrying the server's message meant for a person. */
export class APIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: IErrorBody | null = null
  ) {
    super(message);
    this.name = 'APIError';
  }

  /** True when the scheduler (not our server) is what failed: worth retrying later. */
  get schedulerUnavailable(): boolean {
    return this.status === 503;
  }
}

/** The URL prefix of our API; exported for the WebSocket client and tests. */
export const API_NAMESPACE = 'tritonml';

/**
 * Call the API at `endPoint` (relative to `{base_url}tritonml/`) and return the parsed JSON.
 * Network errors and non-2xx answers become `APIError` with a readable message.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new APIError('The Jupyter server did not answer. Is it still running? ' + String(error), 0);
  }
  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const message =
      (data && typeof data.message === 'string' && data.message) ||
      `The server answered ${response.status} ${response.statusText}`.trim();
    throw new APIError(message, response.status, data);
  }
  return data as T;
}

/** "?a=1&b=x" from the defined values of `params` ("" when none). */
export function queryString(params: { [key: string]: string | number | boolean | undefined | null }): string {
  const parts = Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return parts.length ? '?' + parts.join('&') : '';
}

/** A path segment of an id: escaped, so an id can never reach another endpoint. */
export function segment(id: string): string {
  return encodeURIComponent(id);
}
