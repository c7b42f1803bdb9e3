/** The pure parts of right-sized jobs (no JupyterLab widgets imported): the tests check them. */
import { TritonAPI } from '../api';
import { formatPercent } from '../jobs/format';

/** The sentence of a live advice notification. */
export function adviceMessage(data: TritonAPI.IAdviceLive): string {
  const red = data.findings.filter(f => f.level === 'red');
  const text = (red.length ? red : data.findings).map(f => f.text).join(' ') || data.text;
  return `Job ${data.id} “${data.name || data.id}”: ${text}`;
}

const OPTION: { [field: string]: string } = {
  gpus: '--gpus',
  cpus_per_task: '--cpus',
  mem: '--mem',
  time: '--time'
};

/** Spec field -> the reason shown on the highlighted field. */
export function highlightOf(suggestion: TritonAPI.ISuggestion): { [field: string]: string } {
  const out: { [field: string]: string } = {};
  for (const change of suggestion.changes) {
    out[change.field] = `Was ${change.from ?? 'the default'}. ${change.reason}`;
  }
  return out;
}

/** The changes as the options of a %%tritonml cell (for sweeps): "--cpus 1 --mem 512M". */
export function magicOptions(suggestion: TritonAPI.ISuggestion): string {
  return suggestion.changes
    .filter(c => c.to !== null)
    .map(c => `${OPTION[c.field] ?? `--${c.field}`} ${c.to}`)
    .join(' ');
}

/** Where the job came from decides which dialog submits it again. */
export type ResubmitRoute = 'dialog' | 'magic' | 'notebook' | 'sweep' | 'none';

export function resubmitRoute(
  job: Pick<TritonAPI.IJob, 'tracked' | 'origin'>,
  suggestion: TritonAPI.ISuggestion | null
): ResubmitRoute {
  if (!job.tracked || !suggestion?.spec) {
    return 'none';
  }
  switch (job.origin?.kind) {
    case 'notebook':
      return 'notebook';
    case 'sweep':
      return 'sweep';
    case 'magic': // its cell may need --in values only the kernel has: %tritonml resubmit reuses them
      return 'magic';
    default:
      return 'dialog';
  }
}

export interface IReportLine {
  key: string;
  label: string;
  value: string;
  note: string;
}

const hours = (h: number) => (h >= 100 ? h.toFixed(0) : h.toFixed(1));

/** The figures as rows (pure: the tests check them). */
export function reportLines(r: TritonAPI.IUsageReport): IReportLine[] {
  const share = (a: number | null, b: number) => (a !== null && b ? formatPercent(a / b) : '–');
  const lines: IReportLine[] = [
    { key: 'jobs', label: 'Finished jobs', value: String(r.jobs), note: `${r.gpu_jobs} with GPUs` }
  ];
  if (r.gpu_jobs) {
    lines.push({
      key: 'gpu',
      label: 'GPU-hours',
      value: `${r.gpu_hours_used === null ? '–' : hours(r.gpu_hours_used)} used of ${hours(r.gpu_hours_requested)}`,
      note:
        r.gpu_hours_used === null
          ? 'no utilisation figures (no samples; the site does not account gres/gpuutil)'
          : `${share(r.gpu_hours_used, r.gpu_hours_measured)} of the ${hours(r.gpu_hours_measured)} measured`
    });
  }
  lines.push(
    {
      key: 'cpu',
      label: 'Core-hours',
      value: `${hours(r.cpu_hours_used)} used of ${hours(r.cpu_hours_allocated)}`,
      note: share(r.cpu_hours_used, r.cpu_hours_allocated)
    },
    {
      key: 'memory',
      label: 'Memory GB-hours',
      value: `${hours(r.memory_gb_hours_used)} of ${hours(r.memory_gb_hours_requested)}`,
      note: `${share(r.memory_gb_hours_used, r.memory_gb_hours_requested)} · ${r.over_memory_jobs} jobs asked for much more`
    },
    {
      key: 'time',
      label: 'Time (completed jobs)',
      value: `${hours(r.time_hours_used)} h of ${hours(r.time_hours_requested)} h`,
      note: `${share(r.time_hours_used, r.time_hours_requested)} · ${r.over_time_jobs} jobs asked for much more`
    }
  );
  return lines;
}
