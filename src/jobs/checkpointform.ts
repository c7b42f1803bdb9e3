/** The long-job fields of the New job and Run on GPU dialogs (JobSpec.checkpoint): pure, tested. */
import { TritonAPI } from '../api';

/** The long-job fields of both dialogs (JobSpec.checkpoint), as the inputs hold them. */
export interface ICheckpointForm {
  warn: string;
  requeue: string;
}

export const EMPTY_CHECKPOINT: ICheckpointForm = { warn: '', requeue: '' };

/** The server's error fields of the long-job inputs. */
export const CHECKPOINT_FIELDS = ['checkpoint.warn', 'checkpoint.requeue', 'checkpoint'];

/** `checkpoint` for the spec, or undefined when both fields are empty; `errors` gets local mistakes. */
export function checkpointFromForm(
  form: ICheckpointForm,
  errors: { [field: string]: string } = {}
): TritonAPI.IJobSpec['checkpoint'] | undefined {
  const warn = form.warn.trim();
  const requeue = form.requeue.trim();
  if (!warn && !requeue) {
    return undefined;
  }
  if (requeue && !/^\d+$/.test(requeue)) {
    errors['checkpoint.requeue'] = 'give a whole number of restarts';
    return undefined;
  }
  return { ...(warn ? { warn } : {}), ...(requeue ? { requeue: Number(requeue) } : {}) };
}
