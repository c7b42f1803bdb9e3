/**
 * Sweeps in the lab: the "Open sweep" command (a main-area tab per sweep; from the palette it asks
 * which), used by the "Sweep <id>" section it adds to a job's detail and by the notebook widget.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, Notification, WidgetTracker, MainAreaWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { SweepsClient } from '../api';
import { JobsModel } from '../jobs/model';
import { IJobDetailSections, IJobsModel, IJobSectionProps, JobDetailRank } from '../jobs/tokens';
import { setSweepOpener } from './open';
import { createSweepPanel } from './panel';
import { SweepSection } from './section';

export namespace SweepsCommandIDs {
  export const open = 'tritonml:open-sweep';
}

export const sweepsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'tritonml-lab:sweeps',
  description: 'Sweeps (%%tritonml sweep): the sweep view in a main-area tab, "Open sweep…" in the palette.',
  autoStart: true,
  requires: [IJobsModel, IJobDetailSections],
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    jobs: JobsModel,
    sections: IJobDetailSections,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const tracker = new WidgetTracker<MainAreaWidget>({ namespace: 'tritonml-sweeps' });
    const showJob = (id: string) => void app.commands.execute('tritonml:show-job', { id });

    const open = (id: string) => {
      const existing = tracker.find(widget => widget.id === `tritonml-sweep-${id}`);
      if (existing) {
        app.shell.activateById(existing.id);
        return;
      }
      const widget = createSweepPanel(id, jobs, showJob);
      void tracker.add(widget);
      app.shell.add(widget, 'main', { mode: 'split-right' });
      app.shell.activateById(widget.id);
    };
    setSweepOpener(open);
    // Below the facts (and a notebook run's progress), above the logs.
    sections.add({
      id: 'sweep',
      rank: JobDetailRank.facts + 150,
      detail: (props: IJobSectionProps) => React.createElement(SweepSection, { jobId: props.job.id })
    });

    app.commands.addCommand(SweepsCommandIDs.open, {
      label: args => (args.id ? `Open Sweep ${args.id}` : args.isPalette ? 'Open Sweep…' : 'Open sweep'),
      caption: 'The results table of a sweep (%%tritonml sweep), in a tab (args: id; without, asks)',
      execute: async args => {
        let id = typeof args.id === 'string' ? args.id : '';
        if (!id) {
          let sweeps;
          try {
            sweeps = (await SweepsClient.list()).sweeps;
          } catch (error) {
            Notification.error(`Could not list the sweeps: ${(error as Error).message}`, { autoClose: 8000 });
            return;
          }
          if (sweeps.length === 0) {
            Notification.info('No sweeps yet: run a %%tritonml sweep cell first.', { autoClose: 6000 });
            return;
          }
          const labels = sweeps.map(s => `${s.id} · ${s.name} (${s.total} points${s.metric ? `, ${s.metric}` : ''})`);
          const answer = await InputDialog.getItem({ title: 'Open sweep', items: labels, current: 0 });
          if (!answer.button.accept || answer.value === null) {
            return;
          }
          id = answer.value.split(' ')[0];
        }
        open(id);
      }
    });
    palette?.addItem({ command: SweepsCommandIDs.open, category: 'Slurm (tritonml-lab)', args: { isPalette: true } });

    restorer?.restore(tracker, {
      command: SweepsCommandIDs.open,
      args: widget => ({ id: widget.id.replace('tritonml-sweep-', '') }),
      name: widget => widget.id
    });
  }
};
