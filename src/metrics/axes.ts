/**
 * Scales, axes, ticks and SVG paths of the charts (live GPU charts and sweep curves): pure
 * functions of numbers, apart from the samples they are drawn from (series.ts).
 */
import type { ISeries } from './series';

/** A linear map of [d0, d1] onto [r0, r1]. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (value: number) => number {
  const span = d1 - d0 || 1;
  const k = (r1 - r0) / span;
  return value => r0 + (value - d0) * k;
}

/** A "nice" step (1, 2, 2.5, 5 × 10^n) giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !isFinite(span)) {
    return 1;
  }
  const raw = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / power;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * power;
}

/** A value axis from 0 (or min) to a nice max at or above `max`, with its ticks. */
export function valueAxis(min: number, max: number, count = 4): { min: number; max: number; ticks: number[] } {
  if (!isFinite(max) || max <= min) {
    max = min + 1;
  }
  const step = niceStep(max - min, count);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 1e6; v += step) {
    ticks.push(Math.round(v / step) * step);
  }
  return { min: lo, max: hi, ticks };
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** Ticks on a time axis (unix seconds) at round clock times, about `count` of them. */
export function timeTicks(t0: number, t1: number, count = 4): { step: number; ticks: number[] } {
  const span = Math.max(1, t1 - t0);
  const raw = span / Math.max(1, count);
  const step = TIME_STEPS.find(s => s >= raw) ?? Math.ceil(raw / 86400) * 86400;
  // Round to the local clock (the time zone offset matters for steps of an hour and more).
  const offset = new Date(t0 * 1000).getTimezoneOffset() * 60;
  const ticks: number[] = [];
  for (let t = Math.ceil((t0 - offset) / step) * step + offset; t <= t1; t += step) {
    ticks.push(t);
  }
  return { step, ticks };
}

/** "14:05:30" for steps under a minute, else "14:05"; with the date for a day and more. */
export function formatClock(t: number, step: number): string {
  const d = new Date(t * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (step >= 86400) {
    return `${d.getDate()}.${d.getMonth() + 1}.`;
  }
  return step < 60 ? `${hm}:${pad(d.getSeconds())}` : hm;
}

/** Index of the sample nearest to `t` in sorted `ts` (-1 when empty). */
export function nearestIndex(ts: ArrayLike<number>, t: number): number {
  const n = ts.length;
  if (n === 0) {
    return -1;
  }
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid] < t) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo > 0 && Math.abs(ts[lo - 1] - t) <= Math.abs(ts[lo] - t)) {
    return lo - 1;
  }
  return lo;
}

/**
 * The SVG path of a line: breaks at nulls and at time gaps; with more points than pixels, keeps
 * the min and max of each pixel column so spikes survive.
 */
export function linePath(
  series: Pick<ISeries, 't' | 'v' | 'gaps'>,
  x: (t: number) => number,
  y: (v: number) => number
): string {
  const { t, v, gaps } = series;
  const out: string[] = [];
  let pen = false;
  let column = NaN;
  let cmin = 0;
  let cmax = 0;
  let cfirst = 0;
  let clast = 0;
  const flush = () => {
    if (!isNaN(column)) {
      const yf = y(cfirst);
      out.push(`${pen ? 'L' : 'M'}${column.toFixed(1)} ${yf.toFixed(1)}`);
      pen = true;
      if (cmin !== cmax) {
        // Spikes inside one pixel column: both extremes, then where it ends.
        out.push(`L${column.toFixed(1)} ${y(cmin).toFixed(1)}L${column.toFixed(1)} ${y(cmax).toFixed(1)}`);
        out.push(`L${column.toFixed(1)} ${y(clast).toFixed(1)}`);
      }
    }
    column = NaN;
  };
  for (let i = 0; i < t.length; i++) {
    const value = v[i];
    if (value === null || value === undefined || (i > 0 && t[i] - t[i - 1] > gaps[i])) {
      flush();
      pen = false;
      if (value === null || value === undefined) {
        continue;
      }
    }
    const px = Math.round(x(t[i]) * 2) / 2;
    if (px !== column) {
      flush();
      column = px;
      cmin = cmax = cfirst = clast = value;
    } else {
      cmin = Math.min(cmin, value);
      cmax = Math.max(cmax, value);
      clast = value;
    }
  }
  flush();
  return out.join('');
}
