/** The words of a notebook run's progress, for the banner, the jobs panel and notifications (pure, tested). */
import { TritonAPI } from '../api';
import { formatReason, isActive, stateFamily } from '../jobs/format';

/** Is this job a notebook run ("Run on GPU" or `%tritonml run-notebook`)? */
export function isNotebookJob(job: Pick<TritonAPI.IJob, 'origin'> | null | undefined): boolean {
  return job?.origin?.kind === 'notebook';
}

/** "dir/a.ipynb" for "dir/a.ipynb", "./dir/a.ipynb", "/dir/a.ipynb" or "RTC:dir/a.ipynb". */
export function normalizePath(path: string | null | undefined): string {
  let p = (path ?? '').trim();
  const drive = /^[A-Za-z0-9_-]+:(?!\/\/)/.exec(p);
  if (drive) {
    p = p.slice(drive[0].length);
  }
  return p
    .split('/')
    .filter(part => part !== '' && part !== '.')
    .join('/');
}

/**
 * "cell 3 of 12" while a cell runs; "starting the kernel" before the first; "12 of 12 cells" when
 * done; "failed at cell 3 of 12" / "stopped at cell 3 of 12"; null when nothing is known yet.
 */
export function cellProgress(status: TritonAPI.INotebookJobStatus | null | undefined): string | null {
  if (!status) {
    return null;
  }
  const total = status.cells_total;
  const of = (k: number | null | undefined) => (k ? `cell ${k}${total ? ` of ${total}` : ''}` : null);
  switch (status.status) {
    case 'pending':
      return null;
    case 'starting':
      return 'starting the kernel';
    case 'running':
      if (status.executing?.number) {
        return of(status.executing.number);
      }
      return total ? `${status.cells_done} of ${total} cells done` : 'starting the kernel';
    case 'completed':
      return total !== null && total !== undefined ? `${total} of ${total} cells` : 'all cells done';
    case 'failed':
    case 'interrupted': {
      const where = of(status.failed_cell?.number ?? null);
      const verb = status.status === 'failed' ? 'failed' : 'stopped';
      return where ? `${verb} at ${where}` : total ? `${verb} after ${status.cells_done} of ${total} cells` : verb;
    }
    default:
      return null;
  }
}

/** 0..1 for a progress bar: cells done (plus half of the running one) of the total. */
export function cellFraction(status: TritonAPI.INotebookJobStatus | null | undefined): number | null {
  if (!status || !status.cells_total) {
    return null;
  }
  if (status.status === 'completed') {
    return 1;
  }
  const running = status.executing ? 0.5 : 0;
  return Math.max(0, Math.min(1, (status.cells_done + running) / status.cells_total));
}

/**
 * The notebook's banner: "Running as job 123 on gpu1 — cell 3 of 12", "Queued as job 123 —
 * waiting for resources", "Job 123 completed". The job (pushed) says where; the status (polled) which cell.
 */
export function bannerText(job: TritonAPI.IJob, status: TritonAPI.INotebookJobStatus | null | undefined): string {
  const family = stateFamily(job.state);
  if (family === 'pending') {
    const reason = formatReason(job.reason);
    return `Queued as job ${job.id}${reason ? ` — ${reason}` : ''}`;
  }
  if (family === 'running') {
    const where = job.nodes ? ` on ${job.nodes}` : '';
    const progress = status && status.id === job.id && isActive(status.state) ? cellProgress(status) : null;
    return `Running as job ${job.id}${where} — ${progress ?? 'starting'}`;
  }
  const progress = status && status.id === job.id ? cellProgress(status) : null;
  return `Job ${job.id} ${family === 'done' ? 'completed' : 'ended'}${progress ? ` — ${progress}` : ''}`;
}

/** The end of a run in one sentence, for the notification. */
export function endMessage(
  job: Pick<TritonAPI.IJob, 'id' | 'name' | 'state'>,
  status: TritonAPI.INotebookJobStatus | null
): string {
  const name = status?.notebook ?? job.name ?? job.id;
  const base = name.split('/').pop() ?? name;
  if (status?.status === 'completed' || (!status && stateFamily(job.state) === 'done')) {
    return `Notebook ${base} ran to the end (job ${job.id}).`;
  }
  const cell = status?.failed_cell;
  if (status?.status === 'failed' && cell) {
    const where = cell.number
      ? `cell ${cell.number}${status.cells_total ? ` of ${status.cells_total}` : ''}`
      : 'a cell';
    const error = [cell.ename, cell.evalue].filter(Boolean).join(': ');
    return `Notebook ${base} failed at ${where} (job ${job.id})${error ? `: ${error}` : '.'}`;
  }
  if (status?.message) {
    return `Notebook ${base} (job ${job.id}): ${status.message}`;
  }
  return `Notebook ${base} (job ${job.id}) ended: ${job.state.toLowerCase().replace(/_/g, ' ')}.`;
}

/** Terminal colours out of a traceback (IPython's tracebacks are ANSI coloured). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex -- the escape character is what is matched
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
}
