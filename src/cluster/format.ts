/** Pure helpers that turn cluster data into the words the panel shows. */
import { TritonAPI } from '../api';

/** "2-00:00:00" -> "2 days", "00:30:00" -> "30 min", null -> "no limit". */
export function formatTimeLimit(minutes: number | null): string {
  if (minutes === null || minutes === undefined) {
    return 'no limit';
  }
  if (minutes < 60) {
    return `${minutes} min`;
  }
  if (minutes < 24 * 60) {
    const h = minutes / 60;
    return `${Number.isInteger(h) ? h : h.toFixed(1)} h`;
  }
  const d = minutes / (24 * 60);
  return `${Number.isInteger(d) ? d : d.toFixed(1)} day${d === 1 ? '' : 's'}`;
}

/** "h100 1/2 free" parts for each GPU type of a partition; empty for CPU partitions. */
export function formatGpus(gpus: TritonAPI.IGpuCount[]): string {
  return gpus
    .filter(g => g.total > 0)
    .map(g => `${g.type ?? 'gpu'}: ${g.free}/${g.total} free`)
    .join(', ');
}

/** Partitions sorted as users look for them: default first, then GPU ones, then by name. */
export function sortPartitions(partitions: TritonAPI.IPartition[]): TritonAPI.IPartition[] {
  const weight = (p: TritonAPI.IPartition) => (p.default ? 0 : 2) + (p.gpus.some(g => g.total > 0) ? 0 : 1);
  return [...partitions].sort((a, b) => weight(a) - weight(b) || a.name.localeCompare(b.name));
}
