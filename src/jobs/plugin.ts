/**
 * The jobs feature: the tab's one JobsModel (provided as IJobsModel, so notebook widgets show the
 * same state), the "My jobs" sidebar, the New job dialog and state-change notifications. Features
 * above it add to the sidebar's job views through IJobDetailSections (jobSectionsPlugin).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Clipboard, ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { TritonAPI } from '../api';
import { EventsChannel } from '../events/channel';
import { IEventsChannel } from '../events/tokens';
import { cancelWithConfirmation } from './actions';
import { JobForm, NewJobDialog } from './dialog';
import { stateFamily, stateLabel } from './format';
import { jobsIcon } from './icons';
import { IJobChange, JobsModel } from './model';
import { JobsPanel } from './panel';
import { JobDetailSections } from './sections';
import { IJobDetailSections, IJobsModel } from './tokens';

export namespace JobsCommandIDs {
  export const show = 'tritonml:show-jobs';
  export const showJob = 'tritonml:show-job';
  export const newJob = 'tritonml:new-job';
  export const refresh = 'tritonml:refresh-jobs';
}

const PLUGIN_ID = 'tritonml-lab:jobs';

/** The sections of the job views; a plugin of its own because a plugin provides one token. */
export const jobSectionsPlugin: JupyterFrontEndPlugin<IJobDetailSections> = {
  id: 'tritonml-lab:job-sections',
  description: "Sections of a job's view in the jobs sidebar, added by the metrics, notebook-run and sweep features.",
  autoStart: true,
  provides: IJobDetailSections,
  activate: (): IJobDetailSections => new JobDetailSections()
};

export const jobsPlugin: JupyterFrontEndPlugin<JobsModel> = {
  id: PLUGIN_ID,
  description: 'My Slurm jobs: sidebar with live logs, New job dialog, notifications.',
  autoStart: true,
  provides: IJobsModel,
  requires: [IEventsChannel, IJobDetailSections],
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    channel: EventsChannel,
    sections: IJobDetailSections,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null
  ): JobsModel => {
    const model = new JobsModel({ channel });
    const copy = (text: string) => {
      Clipboard.copyToSystem(text);
      Notification.info('Copied.', { autoClose: 1500 });
    };
    const panel = new JobsPanel(
      model,
      {
        newJob: () => void app.commands.execute(JobsCommandIDs.newJob),
        cancel: job => cancelWithConfirmation(job, model),
        copy
      },
      sections
    );
    app.shell.add(panel, 'left', { rank: 590, type: 'My Slurm jobs' });
    restorer?.add(panel, 'tritonml-jobs');

    const showJob = (id: string) => {
      app.shell.activateById(panel.id);
      panel.showJob(id);
    };

    app.commands.addCommand(JobsCommandIDs.show, {
      label: 'Show My Slurm Jobs',
      caption: 'My queued, running and recent Slurm jobs, with live logs',
      icon: args => (args.isPalette ? undefined : jobsIcon),
      execute: () => {
        panel.showList();
        app.shell.activateById(panel.id);
      }
    });
    app.commands.addCommand(JobsCommandIDs.showJob, {
      label: args => (args.id ? `Show Slurm Job ${args.id}` : 'Show Slurm Job'),
      caption: 'Open the detail of one job in the jobs sidebar (args: id)',
      execute: args => {
        if (typeof args.id === 'string' && args.id) {
          showJob(args.id);
        }
      }
    });
    app.commands.addCommand(JobsCommandIDs.refresh, {
      label: 'Refresh My Slurm Jobs',
      execute: () => model.refresh(true)
    });
    app.commands.addCommand(JobsCommandIDs.newJob, {
      label: args => (args.isPalette ? 'New Slurm Job…' : 'New job…'),
      caption: 'Write a batch job, see its sbatch script, submit it to Slurm (args: spec to pre-fill, highlight)',
      icon: args => (args.isPalette ? undefined : jobsIcon),
      execute: async args => {
        const spec = (args as ReadonlyPartialJSONObject).spec as Partial<TritonAPI.IJobSpec> | undefined;
        const highlight = (args as ReadonlyPartialJSONObject).highlight as { [field: string]: string } | undefined;
        const form = new JobForm({ spec: spec ?? {}, copy, highlight });
        const dialog = new NewJobDialog(form);
        const result = await dialog.launch();
        const job = result.button.accept ? result.value : null;
        if (!job) {
          return null;
        }
        // The list holds jobs as `GET jobs` shows them: without the detail's script and spec.
        const { script: _script, spec: _spec, efficiency: _efficiency, ...listed } = job;
        model.upsert(listed);
        panel.showList();
        app.shell.activateById(panel.id);
        Notification.success(`Submitted job ${job.id} (${job.name}).`, {
          autoClose: 5000,
          actions: [{ label: 'Show', callback: () => showJob(job.id) }]
        });
        return job.id;
      }
    });

    const category = 'Slurm (tritonml-lab)';
    palette?.addItem({ command: JobsCommandIDs.show, category });
    palette?.addItem({ command: JobsCommandIDs.newJob, category, args: { isPalette: true } });
    palette?.addItem({ command: JobsCommandIDs.refresh, category });

    // Notifications when a job of mine changes state (all listed jobs are mine: squeue --me).
    let notify = true;
    let notifyRunning = true;
    model.jobChanged.connect((_, change: IJobChange) => {
      if (notify) {
        notifyStateChange(change, notifyRunning, showJob);
      }
    });
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            notify = settings.get('notifyOnStateChange').composite as boolean;
            notifyRunning = settings.get('notifyWhenStarted').composite as boolean;
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => console.error('tritonml-lab: could not load the jobs settings', reason));
    }
    return model;
  }
};

/** One notification for a job that moved from one state family to another. */
function notifyStateChange(change: IJobChange, notifyRunning: boolean, show: (id: string) => void): void {
  const { previous, current } = change;
  if (!previous || previous.state === current.state) {
    return;
  }
  const family = stateFamily(current.state);
  if (family === stateFamily(previous.state) && family !== 'failed') {
    return; // e.g. RUNNING -> COMPLETING: nothing a person needs to hear about
  }
  if (family === 'running' && !notifyRunning) {
    return;
  }
  const name = current.name || current.id;
  const options = {
    autoClose: family === 'running' || family === 'pending' ? 4000 : 8000,
    actions: [{ label: 'Show', callback: () => show(current.id) }]
  };
  const exit = current.exit_code ? ` (exit code ${current.exit_code})` : '';
  switch (family) {
    case 'running':
      Notification.info(`Job ${current.id} “${name}” started${current.nodes ? ` on ${current.nodes}` : ''}.`, options);
      break;
    case 'done':
      Notification.success(`Job ${current.id} “${name}” completed.`, options);
      break;
    case 'failed':
      Notification.error(`Job ${current.id} “${name}” ended: ${stateLabel(current.state)}${exit}.`, options);
      break;
    case 'cancelled':
      Notification.warning(`Job ${current.id} “${name}” was cancelled.`, options);
      break;
    case 'pending':
      Notification.info(`Job ${current.id} “${name}” is ${stateLabel(current.state)}.`, options);
      break;
  }
}
