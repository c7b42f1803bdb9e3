/**
 * Profiles (--profile, issue 25) in the jobs sidebar: the "Profile" section of a profiled job's
 * detail, under Slurm's efficiency figures.
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import * as React from 'react';

import { IJobDetailSections, IJobSectionProps, JobDetailRank } from '../jobs/tokens';
import { ProfileSection } from './section';

export const profilePlugin: JupyterFrontEndPlugin<void> = {
  id: 'tritonml-lab:profile',
  description: "A profiled job's top kernels, data-wait share, GPU idle gaps and trace download.",
  autoStart: true,
  requires: [IJobDetailSections],
  activate: (_app, sections: IJobDetailSections) => {
    sections.add({
      id: 'profile',
      rank: JobDetailRank.efficiency + 20,
      detail: (props: IJobSectionProps) => React.createElement(ProfileSection, props)
    });
  }
};
