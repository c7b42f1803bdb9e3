/** The New job form's values and their translation to and from a job spec (pure, tested). */
import { TritonAPI } from '../api';

export type RunKind = 'command' | 'script' | 'code';

/** Every field as the form holds it (strings, as inputs do). */
export interface IJobForm {
  name: string;
  partition: string;
  gpuCount: string;
  gpuType: string;
  cpus: string;
  mem: string;
  time: string;
  modules: string;
  env: string;
  run: RunKind;
  command: string;
  script: string;
  code: string;
  nodes: string;
  ntasks_per_node: string;
  array: string;
  constraint: string;
  gres: string;
  tmp: string;
  account: string;
  qos: string;
  workdir: string;
}

export const EMPTY_FORM: IJobForm = {
  name: '',
  partition: '',
  gpuCount: '0',
  gpuType: '',
  cpus: '',
  mem: '',
  time: '',
  modules: '',
  env: '',
  run: 'command',
  command: '',
  script: '',
  code: '',
  nodes: '',
  ntasks_per_node: '',
  array: '',
  constraint: '',
  gres: '',
  tmp: '',
  account: '',
  qos: '',
  workdir: ''
};

/** The advanced fields, shown folded unless a pre-fill or an error uses them. */
export const ADVANCED_FIELDS: (keyof IJobForm & keyof TritonAPI.IJobSpec)[] = [
  'nodes',
  'ntasks_per_node',
  'array',
  'constraint',
  'gres',
  'tmp',
  'account',
  'qos',
  'workdir'
];

/** A form pre-filled from (part of) a spec, e.g. from "Use in a job" or `%%tritonml --dry-run`. */
export function formFromSpec(spec: Partial<TritonAPI.IJobSpec> = {}): IJobForm {
  const form: IJobForm = { ...EMPTY_FORM };
  const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));
  form.name = text(spec.name);
  form.partition = text(spec.partition);
  if (spec.gpus) {
    const m = /^(?:(.+):)?(\d+)$/.exec(spec.gpus);
    if (m) {
      form.gpuType = m[1] ?? '';
      form.gpuCount = m[2];
    }
  }
  form.cpus = text(spec.cpus_per_task);
  form.mem = text(spec.mem);
  form.time = text(spec.time);
  form.modules = (spec.modules ?? []).join(' ');
  form.env = Object.entries(spec.env ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  if (spec.code) {
    form.run = 'code';
    form.code = spec.code;
  } else if (spec.script) {
    form.run = 'script';
    form.script = spec.script;
  } else if (spec.command) {
    form.run = 'command';
    form.command = spec.command;
  }
  for (const key of ADVANCED_FIELDS) {
    form[key] = text(spec[key]);
  }
  return form;
}

export interface ISpecResult {
  spec: TritonAPI.IJobSpec;
  /** Mistakes the form can tell without the server (field -> message). */
  errors: { [field: string]: string };
  /** Is there something to run? (The server needs exactly one of command, script, code.) */
  runnable: boolean;
}

/** The spec the form describes; empty fields are left out so the server's defaults apply. */
export function specFromForm(form: IJobForm): ISpecResult {
  const spec: TritonAPI.IJobSpec = {};
  const errors: { [field: string]: string } = {};
  const str = (value: string) => value.trim();
  const int = (field: string, value: string): number | undefined => {
    const v = value.trim();
    if (!v) {
      return undefined;
    }
    if (!/^\d+$/.test(v)) {
      errors[field] = 'give a whole number';
      return undefined;
    }
    return Number(v);
  };
  if (str(form.name)) {
    spec.name = str(form.name);
  }
  if (str(form.partition)) {
    spec.partition = str(form.partition);
  }
  const count = int('gpus', form.gpuCount);
  if (count !== undefined && count > 0) {
    spec.gpus = form.gpuType ? `${form.gpuType}:${count}` : String(count);
  }
  const cpus = int('cpus_per_task', form.cpus);
  if (cpus !== undefined) {
    spec.cpus_per_task = cpus;
  }
  for (const key of ['mem', 'time', 'array', 'constraint', 'gres', 'tmp', 'account', 'qos', 'workdir'] as const) {
    const value = str(form[key]);
    if (value) {
      spec[key] = value;
    }
  }
  const nodes = int('nodes', form.nodes);
  if (nodes !== undefined) {
    spec.nodes = nodes;
  }
  const tasks = int('ntasks_per_node', form.ntasks_per_node);
  if (tasks !== undefined) {
    spec.ntasks_per_node = tasks;
  }
  const modules = form.modules.split(/[\s,]+/).filter(Boolean);
  if (modules.length) {
    spec.modules = modules;
  }
  const env: { [name: string]: string } = {};
  form.env.split('\n').forEach((line, index) => {
    if (!line.trim() || line.trim().startsWith('#')) {
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      errors.env = `line ${index + 1}: write NAME=value`;
      return;
    }
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  });
  if (Object.keys(env).length) {
    spec.env = env;
  }
  const payload = form.run === 'command' ? form.command.trim() : form[form.run];
  if (payload.trim()) {
    spec[form.run] = payload;
  }
  return { spec, errors, runnable: !!payload.trim() };
}

/** The GPU types a partition offers (from the cluster summary), in a stable order. */
export function gpuTypesOf(partition: TritonAPI.IPartition | undefined): string[] {
  if (!partition) {
    return [];
  }
  return [...new Set(partition.gpus.filter(g => g.total > 0 && g.type).map(g => g.type as string))].sort();
}

/** How many GPUs of `type` (or any) a partition has in total; 0 for a CPU partition. */
export function gpuTotal(partition: TritonAPI.IPartition | undefined, type = ''): number {
  if (!partition) {
    return 0;
  }
  return partition.gpus.filter(g => !type || g.type === type).reduce((sum, g) => sum + g.total, 0);
}
