/** The cluster feature: the "Slurm cluster" sidebar (partitions, time limits, free GPUs) and its commands. */
import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { ClusterModel } from './model';
import { ClusterPanel } from './panel';

// The id from when this was the extension's only plugin: its settings (schema/plugin.json) and the
// ones people saved live under it.
const PLUGIN_ID = 'tritonml-lab:plugin';

export namespace ClusterCommandIDs {
  export const show = 'tritonml:show-cluster';
  export const refresh = 'tritonml:refresh-cluster';
}

export const clusterPlugin: JupyterFrontEndPlugin<void> = {
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

    app.commands.addCommand(ClusterCommandIDs.show, {
      label: 'Show Slurm Cluster',
      caption: 'Partitions, time limits and free GPUs of the Slurm cluster',
      execute: () => labShell.activateById(panel.id)
    });
    app.commands.addCommand(ClusterCommandIDs.refresh, {
      label: 'Refresh Slurm Cluster Summary',
      execute: () => model.refresh()
    });
    const category = 'Slurm (tritonml-lab)';
    palette?.addItem({ command: ClusterCommandIDs.show, category });
    palette?.addItem({ command: ClusterCommandIDs.refresh, category });

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
