/** Words and numbers of the Profile section (pure: tested in src/__tests__/profile.spec.ts). */
import type { IJobProfile, IProfileSummary } from '../api/profile';

/** A data-wait share from this on shows a starved pipeline (tritonml_lab/advice/rules.py DATA_WAIT_SHARE). */
export const DATA_WAIT_WARN = 0.25;

const STATES: { [state: string]: string } = {
  waiting: 'Nothing recorded yet: the profile starts after the first training steps.',
  recording: 'Recording…',
  none: 'This job was not profiled: submit it with --profile (or tick Profile in the dialog).'
};

export function percent(share: number | null | undefined): string {
  if (share === null || share === undefined) {
    return '–';
  }
  const p = share * 100;
  if (p > 0 && p < 1) {
    return '<1%';
  }
  return p > 99 && p < 100 ? '>99%' : `${Math.round(p)}%`;
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '–';
  }
  if (value >= 1000) {
    return `${(value / 1000).toFixed(value >= 10000 ? 0 : 2)} s`;
  }
  return value >= 10 ? `${Math.round(value)} ms` : `${value.toFixed(value >= 1 ? 1 : 2)} ms`;
}

/**
 * A kernel's or operator's name, short: no `void `, no template arguments, no parameter list, no
 * namespaces before the last two parts. `Memcpy HtoD (Pageable -> Device)` and `aten::addmm` stay.
 */
export function shortName(name: string): string {
  let s = name.trim();
  if (!s.startsWith('void ') && !s.includes('<')) {
    return s;
  }
  s = s.replace(/^void\s+/, '');
  let out = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === '<' || ch === '(') {
      depth++;
    } else if (ch === '>' || ch === ')') {
      depth = Math.max(0, depth - 1);
    } else if (depth === 0) {
      out += ch;
    }
  }
  const parts = out.split('::').filter(p => p && !p.startsWith('(anonymous'));
  return parts.slice(-2).join('::').trim() || name.slice(0, 60);
}

/** What the profile's state says, where there is no summary (or above it). */
export function stateText(profile: IJobProfile): string {
  if (profile.state === 'recorded') {
    return profile.mode === 'nsys' ? 'Recorded with Nsight Systems: open the report in nsys-ui.' : '';
  }
  return profile.message || STATES[profile.state] || profile.state;
}

/** "10 steps of 201 ms on NVIDIA H200" */
export function stepsLine(s: IProfileSummary): string {
  const where = s.device ? ` on ${s.device}` : ' (CPU only)';
  return s.steps
    ? `${s.steps} step${s.steps === 1 ? '' : 's'} of ${ms(s.step_ms)}${where}`
    : `${ms(s.window_ms)} recorded${where} (no steps marked)`;
}

export function dataWaitLine(s: IProfileSummary): string | null {
  if (s.data_wait_share === null || s.data_wait_share === undefined) {
    return null;
  }
  return `Waiting for data: ${percent(s.data_wait_share)} of step time (${ms(s.data_wait_ms)} per step)`;
}

export function gpuLine(s: IProfileSummary): string | null {
  if (s.gpu_busy_share === null || s.gpu_busy_share === undefined) {
    return null;
  }
  const gaps = s.gpu_gaps ?? [];
  const longest = gaps.length ? `; the longest ${ms(gaps[0].ms)} at ${ms(gaps[0].start_ms)}` : '';
  const count = s.gpu_gap_count ?? 0;
  return (
    `GPU busy ${percent(s.gpu_busy_share)} of the steps, idle ${ms(s.gpu_idle_ms)}: ` +
    `${count} idle gap${count === 1 ? '' : 's'} of 1 ms or more${longest}`
  );
}

export function sizeText(bytes: number): string {
  if (bytes >= 1 << 20) {
    return `${(bytes / (1 << 20)).toFixed(1)} MB`;
  }
  return bytes >= 1024 ? `${Math.round(bytes / 1024)} kB` : `${bytes} B`;
}
