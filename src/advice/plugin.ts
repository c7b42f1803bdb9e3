/**
 * Right-sized jobs in the front end: the live advice notifications (the server's "advice" event,
 * once per job), the "Right-sizing" section of a finished job's detail with "Resubmit with these
 * settings", and my efficiency report. Switch the notifications off in Settings (tritonml-lab: advice).
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, MainAreaWidget, Notification } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import * as React from 'react';

import { AdviceClient, APIError, JobsClient } from '../api';
import { EventsChannel, ServerEvent } from '../events/channel';
import { IEventsChannel } from '../events/tokens';
import { IJobDetailSections, IJobSectionProps, JobDetailRank } from '../jobs/tokens';
import { adviceMessage } from './format';
import { EfficiencyReportSection, EfficiencyReportWidget } from './report';
import { resubmit } from './resubmit';
import { RightSizing } from './section';
import { ArraySpread } from './spread';

export namespace AdviceCommandIDs {
  export const resubmit = 'tritonml:resubmit-job';
  export const report = 'tritonml:efficiency-report';
}

const PLUGIN_ID = 'tritonml-lab:advice';
const SHOW_JOB = 'tritonml:show-job';

export const advicePlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Advice while jobs run, suggested resources with "Resubmit with these settings", my efficiency report.',
  autoStart: true,
  requires: [IEventsChannel, IJobDetailSections],
  optional: [ISettingRegistry, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    channel: EventsChannel,
    sections: IJobDetailSections,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null
  ): void => {
    let live = true;
    const told = new Set<string>(); // one notification per job, also across reconnects
    channel.message.connect((_, message: ServerEvent) => {
      if (message.event !== 'advice' || !live || told.has(message.data.id)) {
        return;
      }
      const data = message.data;
      told.add(data.id);
      Notification.warning(adviceMessage(data), {
        autoClose: false,
        actions: [{ label: 'Show job', callback: () => void app.commands.execute(SHOW_JOB, { id: data.id }) }]
      });
    });
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            live = settings.get('liveAdvice').composite as boolean;
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => console.error('tritonml-lab: could not load the advice settings', reason));
    }

    sections.add({
      id: 'right-sizing',
      rank: JobDetailRank.efficiency + 150, // after the Resources section
      detail: (props: IJobSectionProps) => React.createElement(RightSizing, { ...props, commands: app.commands }),
      list: EfficiencyReportSection
    });

    sections.add({ id: 'array-spread', rank: JobDetailRank.efficiency + 160, detail: ArraySpread });

    app.commands.addCommand(AdviceCommandIDs.resubmit, {
      label: args =>
        args.id ? `Resubmit Job ${args.id} With Suggested Settings` : 'Resubmit Slurm Job With Suggested Settings…',
      caption: 'Open the New job dialog with the resources a finished job should have asked for (args: id)',
      execute: async args => {
        let id = typeof args.id === 'string' ? args.id : '';
        if (!id) {
          const answer = await InputDialog.getText({ title: 'Resubmit which job?', placeholder: 'Slurm job id' });
          id = answer.button.accept ? (answer.value ?? '').trim() : '';
        }
        if (!id) {
          return null;
        }
        try {
          const [job, suggestion] = await Promise.all([JobsClient.get(id), AdviceClient.suggestion(id)]);
          return await resubmit(app.commands, job, suggestion);
        } catch (error) {
          Notification.error(`Cannot resubmit job ${id}: ${error instanceof APIError ? error.message : error}`, {
            autoClose: 8000
          });
          return null;
        }
      }
    });

    let reportWidget: MainAreaWidget<EfficiencyReportWidget> | null = null;
    app.commands.addCommand(AdviceCommandIDs.report, {
      label: 'My Slurm Efficiency Report',
      caption: 'GPU-hours, cores, memory and time requested against used by my jobs of the last 30 days',
      execute: () => {
        if (!reportWidget || reportWidget.isDisposed) {
          reportWidget = new MainAreaWidget({ content: new EfficiencyReportWidget(30) });
          reportWidget.id = 'tritonml-efficiency-report-area';
          reportWidget.title.label = 'My efficiency';
        }
        if (!reportWidget.isAttached) {
          app.shell.add(reportWidget, 'main');
        }
        app.shell.activateById(reportWidget.id);
      }
    });
    const category = 'Slurm (tritonml-lab)';
    palette?.addItem({ command: AdviceCommandIDs.resubmit, category });
    palette?.addItem({ command: AdviceCommandIDs.report, category });
  }
};
