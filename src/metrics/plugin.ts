/**
 * Live resources of jobs: the tab's one MetricsWatcher (provided as IMetricsWatcher, for the charts
 * of the notebook widget) and the "Resources" section of a job's detail in the jobs sidebar.
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import * as React from 'react';

import { EventsChannel } from '../events/channel';
import { IEventsChannel } from '../events/tokens';
import { IJobDetailSections, IJobSectionProps, JobDetailRank } from '../jobs/tokens';
import { JobMetrics } from './section';
import { IMetricsWatcher } from './tokens';
import { MetricsWatcher } from './watcher';

export const metricsPlugin: JupyterFrontEndPlugin<MetricsWatcher> = {
  id: 'tritonml-lab:metrics',
  description: 'Live GPU/CPU charts of a job: the Resources section of its detail, the samples for its widget.',
  autoStart: true,
  provides: IMetricsWatcher,
  requires: [IEventsChannel, IJobDetailSections],
  activate: (_app, channel: EventsChannel, sections: IJobDetailSections): MetricsWatcher => {
    const watcher = new MetricsWatcher({ channel });
    // After Slurm's efficiency figures, which its summary completes.
    sections.add({
      id: 'metrics',
      rank: JobDetailRank.efficiency + 100,
      detail: (props: IJobSectionProps) => React.createElement(JobMetrics, { ...props, watcher })
    });
    return watcher;
  }
};
