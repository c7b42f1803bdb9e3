/**
 * The one typed client of the tritonml-lab REST API. Every request goes through `requestAPI`,
 * which joins paths onto the server's base URL (Open OnDemand serves us under /node/HOST/PORT/).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Interfaces mirroring the server's pydantic models (tritonml_lab/slurm/models.py). */
export namespace TritonAPI {
  export interface IGpuCount {
    type: string | null;
    total: number;
    free: number;
  }

  export interface IPartition {
    name: string;
    default: boolean;
    time_limit: string | null;
    time_limit_minutes: number | null;
    nodes: string[];
    node_count: number;
    state: string;
    cpus_total: number;
    cpus_idle: number;
    gpus: IGpuCount[];
  }

  export interface IClusterSummary {
    cluster: string | null;
    partitions: IPartition[];
    gpus: IGpuCount[];
    gpus_total: number;
    gpus_free: number;
  }

  /** The JSON body of every error the server sends. */
  export interface IErrorBody {
    message: string;
    reason?: string;
    errors?: { field: string; message: string }[];
  }
}

/** An error answer of the API, carrying the server's message meant for a person. */
export class APIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: TritonAPI.IErrorBody | null = null
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
    throw new APIError(
      'The Jupyter server did not answer. Is it still running? ' + String(error),
      0
    );
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

/** Typed wrappers, one per endpoint. */
export const TritonClient = {
  cluster(settings?: ServerConnection.ISettings): Promise<TritonAPI.IClusterSummary> {
    return requestAPI<TritonAPI.IClusterSummary>('cluster', {}, settings);
  }
};
