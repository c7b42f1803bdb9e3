/**
 * Resource presets of "Run on GPU" and the translation of its form to `POST notebook-jobs` (pure,
 * tested). A preset sets GPUs, CPUs and the time limit, and picks a partition of the cluster that
 * can give them (keeping the one chosen when it can).
 */
import { TritonAPI } from '../api';
import { sortPartitions } from '../cluster/format';
import { EMPTY_FORM, gpuTotal, IJobForm, specFromForm } from '../jobs/spec';

export interface IPreset {
  id: string;
  label: string;
  gpus: number;
  cpus: number;
  /** Slurm time, HH:MM:SS. */
  time: string;
}

export const PRESETS: IPreset[] = [
  { id: 'gpu-1h', label: '1 GPU · 1 h', gpus: 1, cpus: 4, time: '01:00:00' },
  { id: 'gpu-4h', label: '1 GPU · 4 h', gpus: 1, cpus: 4, time: '04:00:00' },
  { id: 'gpu2-12h', label: '2 GPUs · 12 h', gpus: 2, cpus: 8, time: '12:00:00' },
  { id: 'cpu-30m', label: 'CPU · 30 min', gpus: 0, cpus: 2, time: '00:30:00' }
];

export const DEFAULT_PRESET = PRESETS[0];

/** Minutes of a Slurm time ("30", "1:00:00", "2-12:00:00", "1-0"); null when not one. */
export function timeMinutes(time: string): number | null {
  const t = time.trim();
  let m = /^(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?$/.exec(t);
  if (m) {
    return Number(m[1]) * 1440 + Number(m[2]) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 60;
  }
  m = /^(\d+)(?::(\d+)(?::(\d+))?)?$/.exec(t);
  if (!m) {
    return null;
  }
  if (m[3] !== undefined) {
    return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) / 60;
  }
  // "MM" or "MM:SS" (Slurm's reading of one or two numbers).
  return Number(m[1]) + Number(m[2] ?? 0) / 60;
}

function fits(partition: TritonAPI.IPartition, gpus: number, minutes: number | null): boolean {
  const limit = partition.time_limit_minutes;
  const timeOk = limit === null || minutes === null || minutes <= limit;
  const total = gpuTotal(partition);
  return timeOk && (gpus > 0 ? total >= gpus : total === 0) && partition.state !== 'down';
}

/**
 * The partition for `gpus` GPUs (0: a CPU partition) for `minutes`: the current one when it fits,
 * else the cluster's default when it fits, else the first that fits (general partitions and free
 * GPUs first, then the cluster's own order);
 * "" (Slurm's default) when the cluster is not known or nothing fits.
 */
export function choosePartition(
  cluster: TritonAPI.IClusterSummary | null,
  current: string,
  gpus: number,
  minutes: number | null
): string {
  if (!cluster) {
    return current;
  }
  const partitions = sortPartitions(cluster.partitions);
  const named = partitions.find(p => p.name === current);
  if (named && fits(named, gpus, minutes)) {
    return named.name;
  }
  const defaultPartition = partitions.find(p => p.default);
  if (defaultPartition && fits(defaultPartition, gpus, minutes)) {
    return '';
  }
  // Prefer general partitions over "debug"/"interactive" ones, then those with the GPUs free now.
  const special = (p: TritonAPI.IPartition) => (/debug|interactive|test/i.test(p.name) ? 1 : 0);
  const busy = (p: TritonAPI.IPartition) => (gpus > 0 && p.gpus.reduce((sum, g) => sum + g.free, 0) < gpus ? 1 : 0);
  const candidates = partitions
    .filter(p => fits(p, gpus, minutes))
    .sort((a, b) => special(a) - special(b) || busy(a) - busy(b));
  return candidates[0]?.name ?? current;
}

/** The form with a preset's resources (other fields kept). */
export function applyPreset(form: IJobForm, preset: IPreset, cluster: TritonAPI.IClusterSummary | null): IJobForm {
  const partition = choosePartition(cluster, form.partition, preset.gpus, timeMinutes(preset.time));
  const keepType = preset.gpus > 0 && partition === form.partition;
  return {
    ...form,
    partition,
    gpuCount: String(preset.gpus),
    gpuType: keepType ? form.gpuType : '',
    cpus: String(preset.cpus),
    time: preset.time
  };
}

/** The preset the form's GPUs, CPUs and time still match, or null once edited. */
export function matchPreset(form: IJobForm): IPreset | null {
  const gpus = Number(form.gpuCount || '0');
  const minutes = timeMinutes(form.time);
  return (
    PRESETS.find(
      p => p.gpus === gpus && String(p.cpus) === form.cpus.trim() && minutes !== null && minutes === timeMinutes(p.time)
    ) ?? null
  );
}

/** The resource part of a form that is remembered between runs (the user's last choice). */
export const REMEMBERED_KEYS = ['partition', 'gpuCount', 'gpuType', 'cpus', 'mem', 'time', 'modules'] as const;
export type RememberedForm = Pick<IJobForm, (typeof REMEMBERED_KEYS)[number]>;

export function rememberedOf(form: IJobForm): RememberedForm {
  const out: any = {};
  for (const key of REMEMBERED_KEYS) {
    out[key] = form[key];
  }
  return out as RememberedForm;
}

/** A form from what was remembered (unknown or malformed values are ignored). */
export function formFromRemembered(saved: unknown): IJobForm | null {
  if (!saved || typeof saved !== 'object') {
    return null;
  }
  const form: IJobForm = { ...EMPTY_FORM };
  let any = false;
  for (const key of REMEMBERED_KEYS) {
    const value = (saved as any)[key];
    if (typeof value === 'string') {
      form[key] = value;
      any = true;
    }
  }
  return any ? form : null;
}

/** "1 GPU (h100) · 4 CPUs · 1 h · gpu-h100-80g" for the "Last used" choice. */
export function describeResources(form: IJobForm): string {
  const gpus = Number(form.gpuCount || '0');
  const parts: string[] = [];
  parts.push(gpus > 0 ? `${gpus} GPU${gpus === 1 ? '' : 's'}${form.gpuType ? ` (${form.gpuType})` : ''}` : 'CPU');
  if (form.cpus.trim()) {
    parts.push(`${form.cpus.trim()} CPU${form.cpus.trim() === '1' ? '' : 's'}`);
  }
  if (form.mem.trim()) {
    parts.push(form.mem.trim());
  }
  const minutes = timeMinutes(form.time);
  if (minutes !== null) {
    parts.push(minutes < 60 ? `${Math.round(minutes)} min` : `${+(minutes / 60).toFixed(1)} h`);
  } else if (form.time.trim()) {
    parts.push(form.time.trim());
  }
  if (form.partition) {
    parts.push(form.partition);
  }
  return parts.join(' · ');
}

export interface IRunRequestResult {
  request: TritonAPI.INotebookJobRequest;
  /** Mistakes the form can tell without the server (field -> message). */
  errors: { [field: string]: string };
}

/** The request for `path` from the form's resource fields, the kernel, parameters and output folder. */
export function requestFromForm(
  form: IJobForm,
  path: string,
  options: { kernel?: string; parameters?: { [name: string]: unknown }; outputDir?: string } = {}
): IRunRequestResult {
  // The notebook is what runs: the spec's payload fields are never sent.
  const { spec, errors } = specFromForm({ ...form, run: 'command', command: '', script: '', code: '', array: '' });
  const { command: _c, script: _s, code: _k, python: _p, array: _a, ...resources } = spec;
  const request: TritonAPI.INotebookJobRequest = { path, ...resources };
  if (options.kernel) {
    request.kernel = options.kernel;
  }
  if (options.parameters && Object.keys(options.parameters).length) {
    request.parameters = options.parameters;
  }
  if (options.outputDir && options.outputDir.trim()) {
    request.output_dir = options.outputDir.trim();
  }
  return { request, errors };
}
