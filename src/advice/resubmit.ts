/**
 * "Resubmit with these settings": from a job's suggestion to the dialog that submits it again. A job
 * of the New job dialog or the API opens that dialog pre-filled, the changed fields highlighted; a
 * notebook run opens Run on GPU for its notebook; a sweep's task points to the sweep's cell (its
 * resources are the cell's options). The pure parts are in format.ts.
 */
import { CommandRegistry } from '@lumino/commands';
import { Clipboard, Notification } from '@jupyterlab/apputils';

import { TritonAPI } from '../api';
import { highlightOf, magicOptions, resubmitRoute } from './format';

export const NEW_JOB_COMMAND = 'tritonml:new-job';
export const RUN_NOTEBOOK_COMMAND = 'tritonml:run-notebook-on-gpu';

/** Open the right dialog for `job` with `suggestion` applied; resolves with the new job id, if any. */
export async function resubmit(
  commands: CommandRegistry,
  job: Pick<TritonAPI.IJob, 'id' | 'tracked' | 'origin'>,
  suggestion: TritonAPI.ISuggestion
): Promise<string | null> {
  const route = resubmitRoute(job, suggestion);
  const options = magicOptions(suggestion);
  switch (route) {
    case 'dialog': {
      const id = await commands.execute(NEW_JOB_COMMAND, {
        spec: suggestion.spec as any,
        highlight: highlightOf(suggestion)
      });
      return typeof id === 'string' ? id : null;
    }
    case 'magic': {
      const line = `%tritonml resubmit ${job.id} --suggested`;
      Notification.info(
        `Job ${job.id} came from a %%tritonml cell: run ${line} in its notebook (the same cell and --in values` +
          (options ? `, with ${options}` : '') +
          ').',
        {
          autoClose: false,
          actions: [{ label: 'Copy the line', callback: () => Clipboard.copyToSystem(line) }]
        }
      );
      return null;
    }
    case 'notebook':
      if (options) {
        Notification.info(`For job ${job.id}, set these resources in Run on GPU: ${options}`, { autoClose: false });
      }
      await commands.execute(RUN_NOTEBOOK_COMMAND, { path: job.origin?.notebook ?? '' });
      return null;
    case 'sweep': {
      const where = job.origin?.notebook ? ` in ${job.origin.notebook}` : '';
      Notification.info(
        `Job ${job.id} is a task of a sweep: run the sweep's cell${where} again with ${options || 'the same options'}.`,
        {
          autoClose: false,
          actions: job.origin?.notebook
            ? [
                {
                  label: 'Open the notebook',
                  callback: () => void commands.execute('docmanager:open', { path: job.origin?.notebook ?? '' })
                }
              ]
            : []
        }
      );
      return null;
    }
    default:
      Notification.warning(
        `Job ${job.id} was not submitted through tritonml-lab: there is no job directory to resubmit from.`,
        { autoClose: 6000 }
      );
      return null;
  }
}
