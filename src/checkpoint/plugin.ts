/**
 * Long jobs (checkpoint: warn and requeue) in the jobs sidebar: the "Time limit" section of a job's
 * detail (time left, a warning badge in the last 10 %, the restart history), a time-left badge in a
 * job's row near its limit, and a notification before the limit of a job without the option.
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { JobsModel } from '../jobs/model';
import { IJobDetailSections, IJobsModel, IJobSectionProps, JobDetailRank } from '../jobs/tokens';
import { TimeLimitNotifier, timeLimitMessage } from './notify';
import { CheckpointSection, TimeLeftRow } from './section';

export const checkpointPlugin: JupyterFrontEndPlugin<void> = {
  id: 'tritonml-lab:checkpoint',
  description: 'Time left and restart history of long jobs; a notification before the time limit.',
  autoStart: true,
  requires: [IJobsModel, IJobDetailSections],
  activate: (_app, jobs: JobsModel, sections: IJobDetailSections) => {
    // Right under the facts (state, times), above a notebook run's progress and the logs.
    sections.add({
      id: 'checkpoint',
      rank: JobDetailRank.facts + 50,
      detail: (props: IJobSectionProps) => React.createElement(CheckpointSection, props),
      row: TimeLeftRow
    });
    new TimeLimitNotifier(jobs, (job, left) => Notification.warning(timeLimitMessage(job, left), { autoClose: 15000 }));
  }
};
