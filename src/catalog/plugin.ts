import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Clipboard, ICommandPalette, Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { TritonAPI, TritonClient } from '../api';
import { ICatalogActions } from './detail';
import { catalogIcon } from './icons';
import { CatalogModel } from './model';
import { CatalogPanel } from './panel';
import { jobSpecFor, useInJob } from './useInJob';

export namespace CatalogCommandIDs {
  export const show = 'tritonml:show-catalog';
  export const refresh = 'tritonml:refresh-catalog';
  export const useInJob = 'tritonml:use-in-job';
}

/** Insert `code` in a new code cell below the active cell of the current notebook. */
function insertIntoNotebook(app: JupyterFrontEnd, tracker: INotebookTracker | null, code: string): boolean {
  const panel = tracker?.currentWidget ?? null;
  if (!panel) {
    Notification.warning('Open a notebook first: the snippet goes into a new cell below its active cell.', {
      autoClose: 6000
    });
    return false;
  }
  const notebook = panel.content;
  if (!notebook.model) {
    Notification.warning('The notebook is still loading; try again in a moment.', { autoClose: 5000 });
    return false;
  }
  NotebookActions.insertBelow(notebook);
  const cell = notebook.activeCell;
  if (!cell) {
    return false;
  }
  if (cell.model.type !== 'code') {
    NotebookActions.changeCellType(notebook, 'code');
  }
  notebook.activeCell?.model.sharedModel.setSource(code.replace(/\n+$/, ''));
  app.shell.activateById(panel.id);
  return true;
}

/** The shared datasets and models sidebar. */
export const catalogPlugin: JupyterFrontEndPlugin<void> = {
  id: 'tritonml-lab:catalog',
  description: 'Shared datasets and models of the cluster, with usage snippets.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer, IRenderMimeRegistry, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    rendermime: IRenderMimeRegistry | null,
    notebooks: INotebookTracker | null
  ) => {
    const model = new CatalogModel();
    const actions: ICatalogActions = {
      copy: text => Clipboard.copyToSystem(text),
      insert: code => insertIntoNotebook(app, notebooks, code),
      useInJob: entry => void app.commands.execute(CatalogCommandIDs.useInJob, { id: entry.id })
    };
    const panel = new CatalogPanel(model, { actions, rendermime });
    app.shell.add(panel, 'left', { rank: 610, type: 'Shared datasets and models' });
    restorer?.add(panel, 'tritonml-catalog');

    app.commands.addCommand(CatalogCommandIDs.show, {
      label: 'Show Shared Datasets and Models',
      caption: 'Browse the datasets and models shared on the cluster, with offline usage snippets',
      icon: args => (args.isPalette ? undefined : catalogIcon),
      execute: () => {
        app.shell.activateById(panel.id);
        panel.focusSearch();
      }
    });
    app.commands.addCommand(CatalogCommandIDs.refresh, {
      label: 'Refresh Shared Datasets and Models',
      execute: () => model.refresh()
    });
    app.commands.addCommand(CatalogCommandIDs.useInJob, {
      label: 'Use in a Job',
      caption: 'Pre-fill a batch job with a shared dataset or model (args: id)',
      execute: async args => {
        const id = typeof args.id === 'string' ? args.id : model.selectedId;
        if (!id) {
          Notification.warning('Choose a dataset or model in the Shared data sidebar first.', { autoClose: 5000 });
          return;
        }
        let entry: TritonAPI.ICatalogEntryDetail | null = model.detail?.id === id ? model.detail : null;
        if (!entry) {
          try {
            entry = await TritonClient.catalogEntry(id);
          } catch (error) {
            Notification.error(`Could not load ${id}: ${(error as Error).message}`, { autoClose: 8000 });
            return;
          }
        }
        useInJob.request(entry);
        await app.commands.execute('tritonml:new-job', { spec: jobSpecFor(entry) as any });
        return entry.id;
      }
    });

    const category = 'Shared Data (tritonml-lab)';
    palette?.addItem({ command: CatalogCommandIDs.show, category });
    palette?.addItem({ command: CatalogCommandIDs.refresh, category });
  }
};
