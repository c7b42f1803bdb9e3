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
    /** The release of the Slurm commands, e.g. "24.11.5". */
    slurm_version?: string | null;
    partitions: IPartition[];
    gpus: IGpuCount[];
    gpus_total: number;
    gpus_free: number;
  }

  // -- shared datasets and models (tritonml_lab/catalog/models.py) --------------------------
  export type CatalogKind = 'model' | 'dataset';

  export interface ICatalogEntry {
    id: string;
    kind: CatalogKind;
    name: string;
    root: string;
    path: string;
    source: 'huggingface' | 'folder';
    /** Apparent size; null while the background scan is computing it. */
    size_bytes: number | null;
    disk_bytes: number | null;
    file_count: number | null;
    size_status: 'pending' | 'ready' | 'error';
    /**
     * pending: listed from its name alone, the background is still reading its details (description,
     * parameters, tags); stalled: its folder has not answered for longer than the server's time-out.
     */
    details_status: 'pending' | 'ready' | 'stalled' | 'error';
    description: string | null;
    license: string | null;
    tags: string[];
    formats: string[];
    repo_id: string | null;
    num_parameters: number | null;
  }

  export interface ICatalogListing {
    entries: ICatalogEntry[];
    /** Details or sizes are still being computed in the background. */
    scanning: boolean;
    /** Entries whose size is still being computed. */
    pending: number;
    /** Entries whose details are still being read. */
    detecting: number;
    /** Roots that did not answer, as messages for people (the other roots are listed). */
    warnings: string[];
  }

  export interface ICatalogQuery {
    kind?: CatalogKind;
    q?: string;
    tag?: string;
    min_size?: number;
    max_size?: number;
  }

  export interface IHFInfo {
    repo_id: string;
    repo_type: 'model' | 'dataset';
    hub_dir: string;
    hf_home: string | null;
    revisions: { commit: string; refs: string[]; file_count: number | null }[];
    default_revision: string | null;
    architectures: string[];
    model_type: string | null;
    torch_dtype: string | null;
    context_length: number | null;
    hidden_size: number | null;
    num_layers: number | null;
    vocab_size: number | null;
    num_parameters: number | null;
    parameter_source: 'safetensors-index' | 'safetensors-header' | null;
    files: string[];
  }

  export interface IDatasetInfo {
    layouts: string[];
    formats: { [extension: string]: number };
    splits: string[];
    class_dirs: number | null;
    shards: { directory: string; count: number; pattern: string | null; examples: string[] }[];
    archives: string[];
    sampled: boolean;
  }

  export interface ICatalogSnippets {
    python: string;
    batch: string;
    path: string;
  }

  export interface ICatalogEntryDetail extends ICatalogEntry {
    metadata: { [key: string]: unknown } | null;
    citation: string | null;
    url: string | null;
    hf: IHFInfo | null;
    dataset: IDatasetInfo | null;
    files: {
      top_level: { name: string; is_dir: boolean; size_bytes: number | null }[];
      top_level_truncated: boolean;
      formats: { [extension: string]: number };
      formats_exact: boolean;
      file_count: number | null;
      dir_count: number | null;
      size_bytes: number | null;
      disk_bytes: number | null;
    };
    readme: string | null;
    readme_path: string | null;
    readme_truncated: boolean;
    license_path: string | null;
    snippets: ICatalogSnippets;
    scanned_at: number | null;
  }

  // -- jobs (tritonml_lab/jobs/, tritonml_lab/slurm/models.py) -------------------------------
  /** Slurm's own state names. */
  export type JobState =
    | 'BOOT_FAIL'
    | 'CANCELLED'
    | 'COMPLETED'
    | 'COMPLETING'
    | 'CONFIGURING'
    | 'DEADLINE'
    | 'FAILED'
    | 'NODE_FAIL'
    | 'OUT_OF_MEMORY'
    | 'PENDING'
    | 'PREEMPTED'
    | 'RESV_DEL_HOLD'
    | 'REQUEUE_FED'
    | 'REQUEUE_HOLD'
    | 'REQUEUED'
    | 'RESIZING'
    | 'REVOKED'
    | 'RUNNING'
    | 'SIGNALING'
    | 'SPECIAL_EXIT'
    | 'STAGE_OUT'
    | 'STOPPED'
    | 'SUSPENDED'
    | 'TIMEOUT'
    | 'UNKNOWN';

  /** What POST jobs accepts; exactly one of code, script, command. */
  export interface IJobSpec {
    name?: string;
    partition?: string;
    ddp?: boolean;
    gpus?: string;
    cpus_per_task?: number;
    mem?: string;
    time?: string;
    nodes?: number;
    ntasks_per_node?: number;
    array?: string;
    constraint?: string;
    gres?: string;
    tmp?: string;
    account?: string;
    qos?: string;
    modules?: string[];
    env?: { [name: string]: string };
    workdir?: string;
    code?: string;
    script?: string;
    command?: string;
    python?: string;
  }

  export interface IOrigin {
    kind: string;
    notebook: string | null;
    cell_id: string | null;
    kernel: string | null;
  }

  export interface IJob {
    id: string;
    name: string;
    state: JobState;
    reason: string | null;
    partition: string | null;
    nodes: string | null;
    node_count: number | null;
    gpus: string | null;
    cpus: number | null;
    user: string | null;
    account: string | null;
    /** Epoch seconds. */
    submitted: number | null;
    started: number | null;
    ended: number | null;
    expected_start: number | null;
    /** Seconds. */
    elapsed: number | null;
    /** Minutes; null when unlimited. */
    time_limit: number | null;
    /** null when a signal ended the job, or Slurm did not say. */
    exit_code: number | null;
    signal: number | null;
    /** e.g. "SIGTERM" */
    signal_name?: string | null;
    /** GPUs over every type and node. */
    gpu_count?: number | null;
    array_job_id: string | null;
    array_task_id: string | null;
    workdir: string | null;
    stdout_path: string | null;
    stderr_path: string | null;
    tracked: boolean;
    origin: IOrigin | null;
    directory: string | null;
  }

  export interface IEfficiency {
    complete: boolean;
    state: JobState;
    elapsed_seconds: number | null;
    time_limit_seconds: number | null;
    cpus: number | null;
    cpu_used_seconds: number | null;
    cpu_allocated_seconds: number | null;
    memory_requested_bytes: number | null;
    memory_peak_bytes: number | null;
    gpus: string | null;
    cpu_efficiency: number | null;
    time_fraction: number | null;
    memory_fraction: number | null;
  }

  /** GPU/CPU summary of the in-job samples (tritonml_lab/metrics/efficiency.py). */
  export interface IMetricsSummary {
    source: 'nvml' | 'nvidia-smi' | 'none' | null;
    seconds: number;
    gpus: {
      node: string;
      index: number;
      name: string | null;
      util_mean: number | null;
      util_max: number | null;
      idle_fraction: number | null;
      memory_peak_bytes: number | null;
      memory_total_bytes: number | null;
    }[];
    cpu_cores_mean: number | null;
    rss_peak_bytes: number | null;
    /** After the end: where the GPU figures come from ("sacct": Slurm's gres/gpuutil, gres/gpumem). */
    gpu_source?: 'samples' | 'sacct' | null;
  }

  export interface IJobDetail extends IJob {
    script: string | null;
    spec: IJobSpec | null;
    efficiency: IEfficiency | null;
    metrics: IMetricsSummary | null;
    /** Plain advice after the end ("ask for more --cpus-per-task ..."). */
    advice: string[];
  }

  export interface IJobList {
    jobs: IJob[];
    /** When the monitor last heard from Slurm (epoch seconds). */
    updated: number | null;
    /** Why the last poll failed (scheduler down), or null. */
    error: string | null;
    interval: number | null;
  }

  export interface ILogChunk {
    stream: 'stdout' | 'stderr';
    offset: number;
    size: number;
    data: string;
    missing: boolean;
  }

  /** Messages of the push channel ({base_url}tritonml/events). */
  export type IEvent =
    | { event: 'snapshot'; data: IJobList }
    | { event: 'job'; data: IJob }
    | { event: 'status'; data: { updated: number | null; error: string | null; interval: number | null } }
    | { event: 'pong'; data: Record<string, never> };

  // -- live metrics of a job (tritonml_lab/metrics/sampler.py: the compact sample format) -----
  /** The sampler's header line: what it watches and with what. */
  export interface IMetricsHeader {
    k?: 'h';
    v?: number;
    host?: string;
    /** Sampling interval, seconds. */
    iv?: number;
    src: 'nvml' | 'nvidia-smi' | 'none';
    t0?: number;
    /** CPUs the job may use on this node. */
    cores?: number | null;
    /** Memory of the node, MiB. */
    memt?: number | null;
    driver?: string | null;
    cols?: string[];
    gpus: {
      i: number;
      uuid?: string | null;
      name?: string | null;
      /** Memory total, MiB. */
      mt?: number | null;
      /** Power limit, W. */
      pl?: number | null;
      /** Max SM clock, MHz. */
      smax?: number | null;
      bus?: string | null;
    }[];
    /** The sampler may add fields (gen, keep, bucket, ...). */
    [key: string]: unknown;
  }

  /**
   * One sample: t (unix s); g per GPU [util %, memory MiB, power W, temp C, SM MHz(, util max)];
   * c CPU cores; r RSS MiB. Downsampled rows add d (bucket s), n (samples) and cx (max cores).
   */
  export interface IMetricsSample {
    t: number;
    g?: (number | null)[][] | null;
    c?: number | null;
    r?: number | null;
    d?: number;
    n?: number;
    cx?: number | null;
  }

  export interface IMetricsNode {
    header: IMetricsHeader | null;
    samples: IMetricsSample[];
    ended: boolean;
  }

  /** GET jobs/{id}/metrics, and the "metrics-history" event. */
  export interface IMetrics {
    id: string;
    nodes: { [node: string]: IMetricsNode };
  }

  /** The "metrics" event: new samples of one node. */
  export interface IMetricsLive {
    id: string;
    node: string;
    header: IMetricsHeader | null;
    samples: IMetricsSample[];
  }

  /** Metrics messages of the push channel (after a watch-metrics action). */
  export type IMetricsEvent =
    | { event: 'metrics-history'; data: IMetrics }
    | { event: 'metrics'; data: IMetricsLive }
    | { event: 'error'; data: { message: string } };

  /** The JSON body of every error the server sends. */
  export interface IErrorBody {
    message: string;
    reason?: string;
    /** Per-field messages of an invalid job spec. */
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

/** Typed wrappers, one per endpoint. */
export const TritonClient = {
  /** `fresh`: the refresh button; the server asks sinfo again unless its answer is only seconds old. */
  cluster(settings?: ServerConnection.ISettings, fresh = false): Promise<TritonAPI.IClusterSummary> {
    return requestAPI<TritonAPI.IClusterSummary>(fresh ? 'cluster?fresh=1' : 'cluster', {}, settings);
  },

  catalog(
    query: TritonAPI.ICatalogQuery = {},
    settings?: ServerConnection.ISettings
  ): Promise<TritonAPI.ICatalogListing> {
    return requestAPI<TritonAPI.ICatalogListing>('catalog' + queryString({ ...query }), {}, settings);
  },

  catalogEntry(id: string, settings?: ServerConnection.ISettings): Promise<TritonAPI.ICatalogEntryDetail> {
    // Ids are "<root label>/<relative path>": keep the slashes, escape everything else.
    const path = id.split('/').map(encodeURIComponent).join('/');
    return requestAPI<TritonAPI.ICatalogEntryDetail>('catalog/' + path, {}, settings);
  },

  /** Where the browser loads an image a README links to by a relative path (an <img> src). */
  catalogImageUrl(
    id: string,
    path: string,
    settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ): string {
    return URLExt.join(settings.baseUrl, API_NAMESPACE, 'catalog-image') + queryString({ id, path });
  }
};

/** Typed wrappers of the jobs endpoints. */
export const JobsClient = {
  /** `fresh`: the refresh button; the server asks squeue now (within its scheduler budget). */
  list(settings?: ServerConnection.ISettings, fresh = false): Promise<TritonAPI.IJobList> {
    return requestAPI<TritonAPI.IJobList>(fresh ? 'jobs?fresh=1' : 'jobs', {}, settings);
  },

  get(id: string, settings?: ServerConnection.ISettings): Promise<TritonAPI.IJobDetail> {
    return requestAPI<TritonAPI.IJobDetail>(`jobs/${encodeURIComponent(id)}`, {}, settings);
  },

  submit(
    spec: TritonAPI.IJobSpec & { origin?: Partial<TritonAPI.IOrigin> },
    settings?: ServerConnection.ISettings
  ): Promise<TritonAPI.IJobDetail> {
    return requestAPI<TritonAPI.IJobDetail>('jobs', { method: 'POST', body: JSON.stringify(spec) }, settings);
  },

  preview(
    spec: TritonAPI.IJobSpec & { origin?: Partial<TritonAPI.IOrigin> },
    settings?: ServerConnection.ISettings
  ): Promise<{ script: string }> {
    return requestAPI<{ script: string }>('jobs/preview', { method: 'POST', body: JSON.stringify(spec) }, settings);
  },

  cancel(id: string, settings?: ServerConnection.ISettings): Promise<TritonAPI.IJob> {
    return requestAPI<TritonAPI.IJob>(`jobs/${encodeURIComponent(id)}`, { method: 'DELETE' }, settings);
  },

  log(
    id: string,
    stream: 'stdout' | 'stderr',
    offset: number,
    settings?: ServerConnection.ISettings
  ): Promise<TritonAPI.ILogChunk> {
    return requestAPI<TritonAPI.ILogChunk>(
      `jobs/${encodeURIComponent(id)}/log` + queryString({ stream, offset }),
      {},
      settings
    );
  },

  /** The job's samples per node, each downsampled to at most about `maxPoints`. */
  metrics(id: string, maxPoints = 3600, settings?: ServerConnection.ISettings): Promise<TritonAPI.IMetrics> {
    return requestAPI<TritonAPI.IMetrics>(
      `jobs/${encodeURIComponent(id)}/metrics` + queryString({ max_points: maxPoints }),
      {},
      settings
    );
  },

  /** The push channel's URL (ws:// or wss://, under base_url). */
  eventsUrl(settings: ServerConnection.ISettings = ServerConnection.makeSettings()): string {
    return URLExt.join(settings.wsUrl, API_NAMESPACE, 'events');
  }
};

/** "?a=1&b=x" from the defined values of `params` ("" when none). */
export function queryString(params: { [key: string]: string | number | boolean | undefined | null }): string {
  const parts = Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return parts.length ? '?' + parts.join('&') : '';
}

// -- notebook runs, "Run on GPU" (tritonml_lab/notebooks/, openapi NotebookJob* schemas) ------------
export namespace TritonAPI {
  /** What POST notebook-jobs accepts: the notebook, its parameters and kernel, plus resource keys. */
  export interface INotebookJobRequest extends Omit<IJobSpec, 'code' | 'script' | 'command' | 'python' | 'array'> {
    /** The notebook, relative to the server's root directory. */
    path: string;
    /** Values for the cell tagged `parameters` (JSON values; Python kernels). */
    parameters?: { [name: string]: unknown };
    /** Kernelspec name; default: the notebook's own. */
    kernel?: string;
    /** Where `<name>.<jobid>.ipynb` goes, relative to the root; default: next to the notebook. */
    output_dir?: string;
  }

  /** POST notebook-jobs 201: the job, plus where its executed notebook will be. */
  export interface INotebookJobCreated extends IJobDetail {
    notebook: string;
    kernel: string;
    /** The output notebook relative to the root (null if outside it). */
    output: string | null;
    parameters: { [name: string]: unknown };
  }

  /** The progress states of a notebook run (beside Slurm's own `state`). */
  export type NotebookRunStatus =
    'pending' | 'starting' | 'running' | 'completed' | 'failed' | 'interrupted' | 'unknown';

  export interface INotebookCell {
    /** Position in the output notebook (0-based). */
    index: number | null;
    /** k in "cell k of N" (code cells, 1-based). */
    number: number | null;
  }

  export interface INotebookExecutingCell extends INotebookCell {
    started_at?: number | null;
    output_tail: string;
  }

  export interface INotebookFailedCell extends INotebookCell {
    cell_id?: string | null;
    ename: string;
    evalue: string;
    traceback: string[];
  }

  /** GET notebook-jobs/{id}: the run as the panel shows it. */
  export interface INotebookJobStatus {
    id: string;
    state: JobState;
    status: NotebookRunStatus;
    notebook: string | null;
    kernel: string | null;
    parameters: { [name: string]: unknown };
    /** The output notebook relative to the server root. */
    output: string | null;
    output_path: string | null;
    output_exists: boolean;
    cells_total: number | null;
    cells_done: number;
    executing: INotebookExecutingCell | null;
    failed_cell: INotebookFailedCell | null;
    message: string | null;
    host?: string | null;
    started_at?: number | null;
    first_cell_at?: number | null;
    updated_at?: number | null;
    ended_at?: number | null;
    directory?: string | null;
  }

  /** One variable of the cell tagged `parameters`. */
  export interface INotebookParameter {
    name: string;
    /** The default as a JSON value (null when not a literal). */
    default: unknown;
    /** Is the default a literal (numbers, strings, lists, dicts...)? */
    literal: boolean;
    /** The default's Python source. */
    source: string;
    /** The annotation, or the default's type: int float str bool list dict None. */
    type?: string | null;
    /** The comment at the end of the line. */
    help?: string | null;
  }

  /** GET notebook-parameters?path=: what the "Run on GPU" dialog shows. */
  export interface INotebookParameters {
    path: string;
    kernel: string | null;
    kernel_display_name?: string | null;
    language?: string | null;
    kernel_available: boolean;
    kernel_error?: string | null;
    has_parameters_cell: boolean;
    cell_index?: number | null;
    parameters: INotebookParameter[];
  }
}

/** Typed wrappers of the notebook-run endpoints ("Run on GPU"). */
export const NotebookJobsClient = {
  submit(
    request: TritonAPI.INotebookJobRequest,
    settings?: ServerConnection.ISettings
  ): Promise<TritonAPI.INotebookJobCreated> {
    return requestAPI<TritonAPI.INotebookJobCreated>(
      'notebook-jobs',
      { method: 'POST', body: JSON.stringify(request) },
      settings
    );
  },

  status(id: string, settings?: ServerConnection.ISettings): Promise<TritonAPI.INotebookJobStatus> {
    return requestAPI<TritonAPI.INotebookJobStatus>(`notebook-jobs/${encodeURIComponent(id)}`, {}, settings);
  },

  parameters(path: string, settings?: ServerConnection.ISettings): Promise<TritonAPI.INotebookParameters> {
    return requestAPI<TritonAPI.INotebookParameters>('notebook-parameters' + queryString({ path }), {}, settings);
  }
};

// -- sweeps (tritonml_lab/sweeps/, openapi Sweep* schemas) ----------------------------------------
export namespace TritonAPI {
  /** A point value: a JSON scalar. */
  export type SweepValue = number | string | boolean | null;

  export type SweepSearch = 'grid' | 'random' | 'optuna';

  /** A numeric range of a random search. */
  export interface ISweepRange {
    low: number;
    high: number;
    /** Log-uniform (low > 0). */
    log?: boolean;
    /** Whole numbers. */
    integer?: boolean;
  }

  /** What POST sweeps accepts: the code, exactly one of grid, random or optuna, and resource keys. */
  export interface ISweepRequest extends Omit<IJobSpec, 'script' | 'command' | 'array' | 'code'> {
    code: string;
    grid?: { [name: string]: SweepValue[] };
    random?: { n: number; space: { [name: string]: SweepValue[] | ISweepRange }; seed?: number };
    /** n trials of an Optuna study, each task asking for its point when it starts (needs metric and mode). */
    optuna?: {
      n: number;
      space: { [name: string]: SweepValue[] | ISweepRange };
      sampler?: 'tpe' | 'random';
      seed?: number;
    };
    metric?: string;
    mode?: 'min' | 'max';
    parallel?: number;
    origin?: Partial<IOrigin>;
  }

  /** One point of a sweep, as its newest attempt ran it. */
  export interface ISweepTask {
    /** The point's index in the sweep (0-based). */
    index: number;
    /** The point; null until an Optuna task has asked the study for it. */
    params: { [name: string]: SweepValue } | null;
    state: JobState;
    /** What the task reported; null until then. */
    result: { [name: string]: unknown } | null;
    /** Why a failed task failed (its stderr's last lines). */
    error: string | null;
    exit_code?: number | null;
    /** The array task running this point: JOBID_TASK. */
    job_id: string;
    /** 0: the first run; 1, 2, ...: retries. */
    attempt?: number;
    best: boolean;
  }

  export interface ISweepJob {
    id: string;
    attempt: number;
    tasks: number;
    /** The --array option, e.g. 0-999%10. */
    array: string;
    directory: string;
    /** Starts after this array job has ended (a split sweep with `parallel`). */
    after?: string | null;
  }

  /** GET sweeps/{id}: the sweep and its results table, sorted by the metric (best first). */
  export interface ISweep {
    id: string;
    name: string;
    search: SweepSearch;
    space?: { [key: string]: unknown };
    metric: string | null;
    mode: 'min' | 'max';
    parallel?: number | null;
    created_at?: number;
    total: number;
    /** Tasks per state. */
    counts: { [state: string]: number };
    /** Every task has ended. */
    finished: boolean;
    best: ISweepTask | null;
    jobs: ISweepJob[];
    tasks: ISweepTask[];
    /** Slurm could not be asked; states may be stale. */
    slurm_error?: string | null;
    /** When the whole sweep was cancelled (epoch s); a retry clears it. */
    cancelled_at?: number | null;
    /** Set by the kernel when it kept only the first rows (the notebook widget's snapshot). */
    truncated?: boolean;
  }

  /** One sweep of GET sweeps (from its manifest; no states). */
  export interface ISweepSummary {
    id: string;
    name: string;
    search: SweepSearch;
    metric: string | null;
    mode: 'min' | 'max';
    total: number;
    created_at: number;
    /** Its array jobs' ids (retries included). */
    jobs: string[];
  }

  /** POST sweeps/{id}/retry: which ended tasks (default: the failed ones), and resource changes. */
  export interface ISweepRetry {
    indices?: number[];
    time?: string;
    mem?: string;
    partition?: string;
    gpus?: string;
  }
}

/** Typed wrappers of the sweeps endpoints. */
export const SweepsClient = {
  /** My newest sweeps; with `job`, only the sweep that array job (or task) belongs to. */
  list(job?: string, settings?: ServerConnection.ISettings): Promise<{ sweeps: TritonAPI.ISweepSummary[] }> {
    return requestAPI<{ sweeps: TritonAPI.ISweepSummary[] }>('sweeps' + queryString({ job }), {}, settings);
  },

  get(id: string, settings?: ServerConnection.ISettings): Promise<TritonAPI.ISweep> {
    return requestAPI<TritonAPI.ISweep>(`sweeps/${encodeURIComponent(id)}`, {}, settings);
  },

  submit(request: TritonAPI.ISweepRequest, settings?: ServerConnection.ISettings): Promise<TritonAPI.ISweep> {
    return requestAPI<TritonAPI.ISweep>('sweeps', { method: 'POST', body: JSON.stringify(request) }, settings);
  },

  /** Run the failed tasks (or `body.indices`) again as a new array job of the same sweep. */
  retry(
    id: string,
    body: TritonAPI.ISweepRetry = {},
    settings?: ServerConnection.ISettings
  ): Promise<TritonAPI.ISweep> {
    return requestAPI<TritonAPI.ISweep>(
      `sweeps/${encodeURIComponent(id)}/retry`,
      { method: 'POST', body: JSON.stringify(body) },
      settings
    );
  },

  /** Cancel every array job of the sweep with tasks still queued or running (idempotent). */
  cancel(id: string, settings?: ServerConnection.ISettings): Promise<TritonAPI.ISweep> {
    return requestAPI<TritonAPI.ISweep>(`sweeps/${encodeURIComponent(id)}`, { method: 'DELETE' }, settings);
  }
};
