/**
 * Pure helpers for the in-job sampler's compact samples (tritonml_lab/metrics/sampler.py):
 * merging history and live samples into bounded per-node series, expanding samples into named
 * values, and the scale and axis arithmetic of the charts. No DOM here, so jest tests it directly.
 */
import { TritonAPI } from '../api';

/** Points kept per node: one hour at 1 Hz. */
export const MAX_POINTS = 3600;

/** One node's accumulated samples: sorted by t, unique t, at most MAX_POINTS. */
export interface INodeSeries {
  node: string;
  header: TritonAPI.IMetricsHeader | null;
  samples: TritonAPI.IMetricsSample[];
  ended: boolean;
}

/** Keep the last `max` of `samples` (in place when it is already an owned array). */
function bound<T>(samples: T[], max: number): T[] {
  return samples.length > max ? samples.slice(samples.length - max) : samples;
}

/**
 * `existing` plus `incoming`, sorted by t, one sample per t (the incoming one wins), the last `max`.
 * The usual case (everything new is newer) appends without sorting.
 */
export function mergeSamples(
  existing: TritonAPI.IMetricsSample[],
  incoming: TritonAPI.IMetricsSample[],
  max = MAX_POINTS
): TritonAPI.IMetricsSample[] {
  const fresh = incoming.filter(s => s && typeof s.t === 'number' && isFinite(s.t));
  if (fresh.length === 0) {
    return bound(existing, max);
  }
  const last = existing.length ? existing[existing.length - 1].t : -Infinity;
  let ordered = true;
  for (let i = 0; i < fresh.length; i++) {
    if (fresh[i].t <= (i === 0 ? last : fresh[i - 1].t)) {
      ordered = false;
      break;
    }
  }
  if (ordered) {
    return bound(existing.concat(fresh), max);
  }
  const byT = new Map<number, TritonAPI.IMetricsSample>();
  for (const s of existing) {
    byT.set(s.t, s);
  }
  for (const s of fresh) {
    byT.set(s.t, s);
  }
  return bound(
    [...byT.values()].sort((a, b) => a.t - b.t),
    max
  );
}

/**
 * A (downsampled) history replaces what it covers; samples kept from before that are newer than
 * its last one (live points that arrived meanwhile) stay. Downsampled rows start their bucket at
 * t, so dedupe by t alone would keep both a bucket and the 1 Hz samples inside it.
 */
export function applyHistory(
  existing: TritonAPI.IMetricsSample[],
  history: TritonAPI.IMetricsSample[],
  max = MAX_POINTS
): TritonAPI.IMetricsSample[] {
  const sorted = mergeSamples([], history, Infinity);
  if (sorted.length === 0) {
    return bound(existing, max);
  }
  const lastSample = sorted[sorted.length - 1];
  const end = lastSample.t + (lastSample.d ?? 0);
  const after = existing.filter(s => s.t >= end && s.t > lastSample.t);
  return mergeSamples(sorted, after, max);
}

/** A sample with named values (null where not measured). */
export interface IExpandedSample {
  t: number;
  /** Seconds the sample stands for (bucket length of downsampled rows, else the interval). */
  seconds: number;
  cpu: number | null;
  cpuMax: number | null;
  rssMib: number | null;
  gpus: IExpandedGpu[];
}

export interface IExpandedGpu {
  index: number;
  name: string | null;
  util: number | null;
  utilMax: number | null;
  memMib: number | null;
  memTotalMib: number | null;
  powerW: number | null;
  tempC: number | null;
  smMhz: number | null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && isFinite(value) ? value : null;
}

export function expandSample(s: TritonAPI.IMetricsSample, header: TritonAPI.IMetricsHeader | null): IExpandedSample {
  const gpus = header?.gpus ?? [];
  const rows = s.g ?? [];
  return {
    t: s.t,
    seconds: s.d ?? header?.iv ?? 1,
    cpu: num(s.c),
    cpuMax: num(s.cx ?? s.c),
    rssMib: num(s.r),
    gpus: rows.map((row, k) => {
      const info = gpus[k];
      const values = gpuValues(row, header);
      return {
        index: info?.i ?? k,
        name: info?.name ?? null,
        ...values,
        memTotalMib: num(info?.mt)
      };
    })
  };
}

/** The sampler's per-GPU column names (tritonml_lab/injob/sampler.py COLS), for headers without `cols`. */
const DEFAULT_COLS = ['u', 'm', 'p', 'T', 's'];

/**
 * One GPU's values of a sample row, found by the header's `cols` (the one place rows are decoded):
 * a sampler that adds or reorders columns keeps the charts right. A downsampled row carries the
 * bucket's highest utilisation right after the named columns.
 */
export function gpuValues(
  row: (number | null)[] | null | undefined,
  header: TritonAPI.IMetricsHeader | null
): Pick<IExpandedGpu, 'util' | 'utilMax' | 'memMib' | 'powerW' | 'tempC' | 'smMhz'> {
  const cols = header?.cols ?? DEFAULT_COLS;
  const at = (name: string): number | null => {
    const i = cols.indexOf(name);
    return i < 0 ? null : num(row?.[i]);
  };
  const util = at('u');
  return {
    util,
    utilMax: row && row.length > cols.length ? num(row[cols.length]) : util,
    memMib: at('m'),
    powerW: at('p'),
    tempC: at('T'),
    smMhz: at('s')
  };
}

// -- what the charts draw --------------------------------------------------------------------

export type MetricKind = 'util' | 'memory' | 'power' | 'cpu' | 'ram';

/** One line of a chart. */
export interface ISeries {
  key: string;
  label: string;
  /** Palette slot (tml-MetricsSeries--cN). */
  color: number;
  t: number[];
  v: (number | null)[];
  /** Longest time step that still joins two points (longer: a gap in the line). */
  gaps: number[];
  /** Max per point for downsampled rows, else null. */
  vmax?: (number | null)[];
}

/** A horizontal reference line (memory of the card, power limit). */
export interface IReference {
  value: number;
  label: string;
  color: number;
}

export interface IMetricDef {
  kind: MetricKind;
  title: string;
  /** Unit shown on the axis and in the tooltip. */
  unit: string;
  /** Per GPU (true) or per node (false). */
  gpu: boolean;
}

/** "42%", "1.5 GiB", "690 W", "0.97 cores". */
export function formatValue(value: number, unit: string): string {
  return unit === '%' ? `${Math.round(value)}%` : `${formatNumber(value)} ${unit}`;
}

export const METRICS: { [kind in MetricKind]: IMetricDef } = {
  util: { kind: 'util', title: 'GPU utilisation', unit: '%', gpu: true },
  memory: { kind: 'memory', title: 'GPU memory', unit: 'GiB', gpu: true },
  power: { kind: 'power', title: 'GPU power', unit: 'W', gpu: true },
  cpu: { kind: 'cpu', title: 'CPU', unit: 'cores', gpu: false },
  ram: { kind: 'ram', title: 'RAM (resident)', unit: 'GiB', gpu: false }
};

/** 0.1234 -> "0.12", 3.456 -> "3.5", 123.4 -> "123". */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a === 0) {
    return '0';
  }
  if (a >= 100) {
    return String(Math.round(v));
  }
  if (a >= 10) {
    return v.toFixed(1).replace(/\.0$/, '');
  }
  if (a >= 1) {
    return v.toFixed(2).replace(/\.?0+$/, '');
  }
  return String(Number(v.toPrecision(2)));
}

const MIB_PER_GIB = 1024;

/** Label of GPU k of a node: "GPU 0 · NVIDIA H200" (+ " · node" with several nodes). */
export function gpuLabel(header: TritonAPI.IMetricsHeader | null, k: number, node: string, manyNodes: boolean): string {
  const info = header?.gpus?.[k];
  const parts = [`GPU ${info?.i ?? k}`];
  if (info?.name) {
    parts.push(info.name);
  }
  if (manyNodes) {
    parts.push(node);
  }
  return parts.join(' · ');
}

/** The GPUs of all nodes, in order: [node, k, header]. */
function gpuSlots(nodes: INodeSeries[]): { node: INodeSeries; k: number }[] {
  const slots: { node: INodeSeries; k: number }[] = [];
  for (const node of nodes) {
    let count = node.header?.gpus?.length ?? 0;
    for (const s of node.samples) {
      count = Math.max(count, s.g?.length ?? 0);
      break;
    }
    for (let k = 0; k < count; k++) {
      slots.push({ node, k });
    }
  }
  return slots;
}

/** True when some node reports GPUs (with samples or a header listing them). */
export function hasGpus(nodes: INodeSeries[]): boolean {
  return gpuSlots(nodes).length > 0;
}

/** True when there is anything to draw. */
export function hasSamples(nodes: INodeSeries[]): boolean {
  return nodes.some(n => n.samples.length > 0);
}

function gapsOf(node: INodeSeries): number[] {
  const iv = node.header?.iv ?? 1;
  return node.samples.map(s => Math.max(3 * iv, 1.5 * (s.d ?? 0), 3));
}

/** The lines (and reference lines) of one chart. */
export function seriesFor(
  kind: MetricKind,
  nodes: INodeSeries[]
): { series: ISeries[]; references: IReference[]; unit: string } {
  const manyNodes = nodes.length > 1;
  // Memory in GiB, or in MiB while everything stays under 1 GiB.
  let unit = METRICS[kind].unit;
  let memScale = 1 / MIB_PER_GIB;
  if (kind === 'ram' || kind === 'memory') {
    let peak = 0;
    for (const node of nodes) {
      for (const s of node.samples) {
        if (kind === 'ram') {
          peak = Math.max(peak, num(s.r) ?? 0);
        } else {
          for (const row of s.g ?? []) {
            peak = Math.max(peak, gpuValues(row, node.header).memMib ?? 0);
          }
        }
      }
      for (const gpu of kind === 'memory' ? (node.header?.gpus ?? []) : []) {
        peak = Math.max(peak, num(gpu.mt) ?? 0);
      }
    }
    if (peak < MIB_PER_GIB) {
      unit = 'MiB';
      memScale = 1;
    }
  }
  const series: ISeries[] = [];
  const references: IReference[] = [];
  if (METRICS[kind].gpu) {
    const field = kind === 'util' ? 'util' : kind === 'memory' ? 'memMib' : 'powerW';
    const scale = kind === 'memory' ? memScale : 1;
    gpuSlots(nodes).forEach(({ node, k }, color) => {
      const t: number[] = [];
      const v: (number | null)[] = [];
      const vmax: (number | null)[] = [];
      let coarse = false;
      for (const s of node.samples) {
        const row = s.g?.[k];
        const values = gpuValues(row, node.header);
        const value = values[field];
        t.push(s.t);
        v.push(value === null ? null : value * scale);
        if (kind === 'util' && row && row.length > (node.header?.cols ?? DEFAULT_COLS).length) {
          coarse = true;
          vmax.push(values.utilMax);
        } else {
          vmax.push(value === null ? null : value * scale);
        }
      }
      const label = gpuLabel(node.header, k, node.node, manyNodes);
      series.push({ key: `${node.node}/${k}`, label, color, t, v, gaps: gapsOf(node), ...(coarse ? { vmax } : {}) });
      const info = node.header?.gpus?.[k];
      if (kind === 'memory' && num(info?.mt) !== null) {
        references.push({ value: (info!.mt as number) * scale, label: `${label}: total`, color });
      }
      if (kind === 'power' && num(info?.pl) !== null) {
        references.push({ value: info!.pl as number, label: `${label}: limit`, color });
      }
    });
  } else {
    nodes.forEach((node, color) => {
      const t: number[] = [];
      const v: (number | null)[] = [];
      for (const s of node.samples) {
        t.push(s.t);
        const value = kind === 'cpu' ? num(s.c) : num(s.r);
        v.push(value === null ? null : kind === 'ram' ? value * memScale : value);
      }
      series.push({ key: node.node, label: node.node, color, t, v, gaps: gapsOf(node) });
    });
  }
  // Same reference value for every GPU (8 identical cards): one line.
  const unique = new Map<number, IReference>();
  for (const ref of references) {
    if (!unique.has(ref.value)) {
      unique.set(
        ref.value,
        references.length > 1 && references.every(r => r.value === ref.value)
          ? { ...ref, label: kind === 'memory' ? 'memory of the card' : 'power limit' }
          : ref
      );
    }
  }
  return { series, references: [...unique.values()], unit };
}
