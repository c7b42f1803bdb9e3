/**
 * The after-the-job summary as rows of figures (label, value, a 0..1 meter, a note), from Slurm's
 * efficiency figures and the sampler's summary. Pure, so the React detail, the DOM widget and the
 * tests share it.
 */
import { TritonAPI } from '../api';
import { formatBytes, formatDuration, formatPercent } from '../jobs/format';

export interface ISummaryRow {
  key: string;
  label: string;
  value: string;
  /** 0..1 for the meter, or null for none. */
  fraction: number | null;
  /** The figure deserves attention (idle GPU, memory close to the limit, ...). */
  warn: boolean;
  note: string;
}

export interface ISummaryOptions {
  /** Include CPU efficiency, memory and time from Slurm (the detail view shows those itself). */
  slurm?: boolean;
}

const MIB = 1024 * 1024;

/** The rows for a job's detail; empty when there is nothing measured yet. */
export function summaryRows(
  detail: Pick<TritonAPI.IJobDetail, 'efficiency' | 'metrics'> | null,
  options: ISummaryOptions = {}
): ISummaryRow[] {
  const rows: ISummaryRow[] = [];
  const e = detail?.efficiency ?? null;
  const m = detail?.metrics ?? null;
  const many = (m?.gpus.length ?? 0) > 1;
  const nodes = new Set(m?.gpus.map(g => g.node)).size > 1;
  for (const gpu of m?.gpus ?? []) {
    const who = many ? `GPU ${gpu.index}${nodes ? ` (${gpu.node})` : ''} ` : 'GPU ';
    const util = gpu.util_mean === null ? null : gpu.util_mean / 100;
    rows.push({
      key: `gpu-util-${gpu.node}-${gpu.index}`,
      label: `${who}utilisation`,
      value: gpu.util_mean === null ? '–' : `${Math.round(gpu.util_mean)}%`,
      fraction: util,
      warn: util !== null && util < 0.5,
      note: [
        gpu.util_max !== null ? `mean; max ${Math.round(gpu.util_max)}%` : '',
        gpu.idle_fraction !== null ? `idle ${formatPercent(gpu.idle_fraction)} of the time` : '',
        gpu.name ?? ''
      ]
        .filter(Boolean)
        .join(' · ')
    });
    const memFraction =
      gpu.memory_peak_bytes !== null && gpu.memory_total_bytes ? gpu.memory_peak_bytes / gpu.memory_total_bytes : null;
    // Slurm's gres/gpumem (m.gpu_source "sacct") has no card size: the peak alone.
    const cardUnknown = gpu.memory_peak_bytes !== null && !gpu.memory_total_bytes;
    rows.push({
      key: `gpu-mem-${gpu.node}-${gpu.index}`,
      label: `${who}memory peak`,
      value: cardUnknown ? formatBytes(gpu.memory_peak_bytes) : formatPercent(memFraction),
      fraction: memFraction,
      warn: memFraction !== null && memFraction > 0.95,
      note:
        gpu.memory_peak_bytes === null
          ? 'not measured'
          : cardUnknown
            ? m?.gpu_source === 'sacct'
              ? 'per task, from Slurm accounting'
              : 'card size unknown'
            : `${formatBytes(gpu.memory_peak_bytes)} of ${formatBytes(gpu.memory_total_bytes)} on the card`
    });
  }
  if (options.slurm && e) {
    rows.push({
      key: 'cpu',
      label: 'CPU efficiency',
      value: formatPercent(e.cpu_efficiency),
      fraction: e.cpu_efficiency,
      warn: e.cpu_efficiency !== null && e.cpu_efficiency < 0.5,
      note:
        e.cpu_used_seconds !== null && e.cpu_allocated_seconds !== null
          ? `${formatDuration(e.cpu_used_seconds)} used of ${formatDuration(e.cpu_allocated_seconds)} on ${e.cpus ?? '?'} CPU${e.cpus === 1 ? '' : 's'}`
          : ''
    });
  }
  if (m?.cpu_cores_mean !== null && m?.cpu_cores_mean !== undefined) {
    const cpus = e?.cpus ?? null;
    rows.push({
      key: 'cpu-cores',
      label: 'CPU cores used',
      value: m.cpu_cores_mean.toFixed(m.cpu_cores_mean >= 10 ? 0 : 1),
      fraction: cpus ? m.cpu_cores_mean / cpus : null,
      warn: false,
      note: cpus ? `mean, of ${cpus} allocated` : 'mean'
    });
  }
  if (options.slurm && e) {
    const peak = e.memory_peak_bytes ?? m?.rss_peak_bytes ?? null;
    const fraction =
      e.memory_fraction ?? (peak !== null && e.memory_requested_bytes ? peak / e.memory_requested_bytes : null);
    rows.push({
      key: 'memory',
      label: 'Memory peak',
      value: formatPercent(fraction),
      fraction,
      warn: fraction !== null && fraction > 0.9,
      note:
        peak !== null
          ? `${formatBytes(peak)} of ${formatBytes(e.memory_requested_bytes)} requested`
          : `not measured · ${formatBytes(e.memory_requested_bytes)} requested`
    });
    rows.push({
      key: 'time',
      label: 'Time used',
      value: formatPercent(e.time_fraction),
      fraction: e.time_fraction,
      warn: e.time_fraction !== null && e.time_fraction > 0.9,
      note: `${formatDuration(e.elapsed_seconds)} of ${
        e.time_limit_seconds !== null ? formatDuration(e.time_limit_seconds) : 'no limit'
      }`
    });
  } else if (m?.rss_peak_bytes !== null && m?.rss_peak_bytes !== undefined && !e?.memory_peak_bytes) {
    // Slurm did not measure the memory (too short a job): the sampler did.
    const requested = e?.memory_requested_bytes ?? null;
    const fraction = requested ? m.rss_peak_bytes / requested : null;
    rows.push({
      key: 'rss',
      label: 'Memory peak (sampled)',
      value: fraction !== null ? formatPercent(fraction) : formatBytes(m.rss_peak_bytes),
      fraction,
      warn: fraction !== null && fraction > 0.9,
      note: requested
        ? `${formatBytes(m.rss_peak_bytes)} of ${formatBytes(requested)} requested`
        : `${Math.round(m.rss_peak_bytes / MIB)} MiB resident`
    });
  }
  return rows;
}

/** Render rows and advice into `parent` (the DOM widget); React renders the same rows itself. */
export function renderSummary(parent: HTMLElement, rows: ISummaryRow[], advice: string[]): void {
  parent.textContent = '';
  for (const row of rows) {
    const line = document.createElement('div');
    line.className = 'tml-MetricsSummary-row';
    line.dataset.figure = row.key;
    const label = document.createElement('span');
    label.className = 'tml-MetricsSummary-label';
    label.textContent = row.label;
    const value = document.createElement('span');
    value.className = 'tml-MetricsSummary-value';
    value.textContent = row.value;
    const meter = document.createElement('span');
    meter.className = `tml-Meter${row.warn ? ' tml-Meter--warn' : ''}`;
    const fill = document.createElement('span');
    fill.className = 'tml-Meter-fill';
    fill.style.width = `${Math.max(0, Math.min(1, row.fraction ?? 0)) * 100}%`;
    meter.appendChild(fill);
    meter.hidden = row.fraction === null;
    const note = document.createElement('span');
    note.className = 'tml-MetricsSummary-note';
    note.textContent = row.note;
    line.append(label, value, meter, note);
    parent.appendChild(line);
  }
  if (advice.length) {
    const list = document.createElement('ul');
    list.className = 'tml-MetricsAdvice';
    for (const sentence of advice) {
      const item = document.createElement('li');
      item.textContent = sentence;
      list.appendChild(item);
    }
    parent.appendChild(list);
  }
}
