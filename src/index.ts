import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { catalogPlugin } from './catalog/plugin';
import { ClusterModel } from './cluster/model';
import { ClusterPanel } from './cluster/panel';
import { jobsPlugin } from './jobs/plugin';
import { notebookJobsPlugin } from './notebookjobs/plugin';
import { sweepsPlugin } from './sweeps/plugin';
import { jobWidgetPlugin } from './widget/plugin';

const PLUGIN_ID = 'tritonml-lab:plugin';

export namespace CommandIDs {
  export const showCluster = 'tritonml:show-cluster';
  export const refreshCluster = 'tritonml:refresh-cluster';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Slurm GPU cluster from JupyterLab: cluster summary sidebar.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null
  ) => {
    const model = new ClusterModel();
    const panel = new ClusterPanel(model);
    labShell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, 'tritonml-cluster');

    app.commands.addCommand(CommandIDs.showCluster, {
      label: 'Show Slurm Cluster',
      caption: 'Partitions, time limits and free GPUs of the Slurm cluster',
      execute: () => labShell.activateById(panel.id)
    });
    app.commands.addCommand(CommandIDs.refreshCluster, {
      label: 'Refresh Slurm Cluster Summary',
      execute: () => model.refresh()
    });
    const category = 'Slurm (tritonml-lab)';
    palette?.addItem({ command: CommandIDs.showCluster, category });
    palette?.addItem({ command: CommandIDs.refreshCluster, category });

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            model.refreshSeconds = settings.get('clusterRefreshSeconds').composite as number;
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => console.error('tritonml-lab: could not load settings', reason));
    }
  }
};

export default [plugin, catalogPlugin, jobsPlugin, jobWidgetPlugin, notebookJobsPlugin, sweepsPlugin];
