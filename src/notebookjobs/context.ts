/**
 * What the notebook-run views inside the jobs panel need from the application (set once by the
 * notebook-jobs plugin, as src/widget/context.ts does for the job widget). Without it (tests, or
 * the plugin disabled) those views render nothing.
 */
import { TritonAPI } from '../api';
import { NotebookProgressStore } from './store';

export interface INotebookJobsContext {
  store: NotebookProgressStore;
  /** Open a notebook (relative to the server root), re-read from disk, optionally at cell `index`. */
  open(path: string, cellIndex?: number | null): Promise<void>;
  /** The failing cell's traceback in a dialog, with "Open at the failing cell". */
  showFailure(status: TritonAPI.INotebookJobStatus): Promise<void>;
  /** Open the detail of job `id` in the jobs sidebar. */
  showJob(id: string): void;
}

let context: INotebookJobsContext | null = null;

export function setNotebookJobsContext(value: INotebookJobsContext | null): void {
  context = value;
}

export function notebookJobsContext(): INotebookJobsContext | null {
  return context;
}
