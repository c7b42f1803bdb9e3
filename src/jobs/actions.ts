/** Actions shared by the jobs panel, its detail view and the notebook widget. */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';

import { JobsClient, TritonAPI } from '../api';
import { isActive } from './format';
import { JobsModel } from './model';

/** What the buttons of the jobs sidebar (list and detail) do; the jobs plugin implements them. */
export interface IJobsActions {
  newJob(): void;
  cancel(job: TritonAPI.IJob): Promise<boolean>;
  copy(text: string): void;
}

/**
 * Ask, then cancel the job (`DELETE jobs/{id}`, which is idempotent). Resolves with true once
 * the server accepted it; the new state arrives through the model.
 */
export async function cancelWithConfirmation(
  job: Pick<TritonAPI.IJob, 'id' | 'name'> & { state?: string },
  model: JobsModel | null
): Promise<boolean> {
  const pending = job.state === 'PENDING';
  const result = await showDialog({
    title: `Cancel job ${job.id}?`,
    body:
      `“${job.name || job.id}” ${pending ? 'leaves the queue' : 'is stopped'} (scancel ${job.id}). ` +
      'What it wrote so far stays in its job directory.',
    buttons: [Dialog.cancelButton({ label: 'Keep it' }), Dialog.warnButton({ label: 'Cancel job' })],
    defaultButton: 0
  });
  if (!result.button.accept) {
    return false;
  }
  try {
    const answer = await JobsClient.cancel(job.id);
    if (answer && answer.id) {
      model?.upsert(answer);
    }
    if (answer && isActive(answer.state)) {
      // Slurm takes a moment; the monitor pushes CANCELLED when it sees it.
      Notification.info(`Cancelling job ${job.id}…`, { autoClose: 3000 });
    }
    return true;
  } catch (error) {
    Notification.error(`Could not cancel job ${job.id}: ${(error as Error).message}`, { autoClose: 10000 });
    return false;
  }
}
