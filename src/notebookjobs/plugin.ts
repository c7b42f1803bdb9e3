/**
 * "Run on GPU": send a whole notebook to a batch job and get the executed notebook back.
 *
 * - the command `tritonml:run-notebook-on-gpu` (notebook toolbar button, palette, Run menu, file
 *   browser context menu on .ipynb files, Alt+Shift+G): saves the notebook if it has changes, then
 *   opens the dialog (resources with presets and the last choice, kernel, parameters);
 * - a banner on the notebook while it runs ("Running as job 123 on gpu1 — cell 3 of 12");
 * - "cell k of N", the live output and the failing cell in the jobs panel (sections added through
 *   IJobDetailSections; see ./progress.tsx);
 * - when the run ends, its notification gets "Open result" (and, on failure, the failing cell and
 *   its traceback one click away).
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, IToolbarWidgetRegistry, Notification, showDialog } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import * as React from 'react';

import { TritonAPI } from '../api';
import { gpuIcon } from '../icons';
import { isActive, stateFamily } from '../jobs/format';
import { IJobChange, JobsModel } from '../jobs/model';
import { IJobDetailSections, IJobsModel, JobDetailRank } from '../jobs/tokens';
import { NotebookJobBanner } from './banner';
import { setNotebookJobsContext } from './context';
import { IKernelChoice, RunNotebookDialog, RunNotebookForm } from './dialog';
import { describeParameters } from './params';
import { formFromRemembered } from './presets';
import { NotebookJobProgress, NotebookRowProgress } from './progress';
import { NotebookProgressStore } from './store';
import { endMessage, isNotebookJob, stripAnsi } from './text';

export namespace NotebookJobsCommandIDs {
  export const run = 'tritonml:run-notebook-on-gpu';
}

const PLUGIN_ID = 'tritonml-lab:notebooks';
const JOBS_PLUGIN_ID = 'tritonml-lab:jobs';
const STATE_KEY = 'tritonml-lab:notebooks:last-resources';
const TOOLBAR_ITEM = 'tritonml-run-on-gpu';

export const notebookJobsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: '"Run on GPU": run a whole notebook as a Slurm batch job and get the executed notebook back.',
  autoStart: true,
  requires: [IJobsModel, IJobDetailSections, INotebookTracker],
  optional: [ICommandPalette, IToolbarWidgetRegistry, IDefaultFileBrowser, IStateDB, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    model: JobsModel,
    sections: IJobDetailSections,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    toolbarRegistry: IToolbarWidgetRegistry | null,
    browser: IDefaultFileBrowser | null,
    state: IStateDB | null,
    settingRegistry: ISettingRegistry | null
  ) => {
    const store = new NotebookProgressStore({ model });
    const contents = app.serviceManager.contents;
    let openJobsPanel = true;
    let notifyEnd = true;

    const showJob = (id: string) => void app.commands.execute('tritonml:show-job', { id });
    const findPanel = (path: string): NotebookPanel | null =>
      tracker.find(panel => panel.context.path === path || contents.localPath(panel.context.path) === path) ?? null;

    /** Open `path`, re-read from disk when it was open (the job rewrote it), at cell `index`. */
    const open = async (path: string, cellIndex?: number | null) => {
      const before = findPanel(path);
      const widget = await app.commands.execute('docmanager:open', { path });
      const panel = (before ?? findPanel(path) ?? widget) as NotebookPanel | null;
      if (!panel || !panel.context || !panel.content) {
        return;
      }
      await panel.context.ready;
      if (before && !panel.context.model.dirty) {
        await panel.context.revert();
      }
      app.shell.activateById(panel.id);
      if (cellIndex !== null && cellIndex !== undefined && cellIndex >= 0) {
        await panel.revealed;
        const notebook = panel.content;
        if (cellIndex < notebook.widgets.length) {
          notebook.activeCellIndex = cellIndex;
          notebook.deselectAll();
          await notebook.scrollToCell(notebook.widgets[cellIndex], 'start');
        }
      }
    };

    const showFailure = async (status: TritonAPI.INotebookJobStatus) => {
      const cell = status.failed_cell;
      const where = cell?.number
        ? `Cell ${cell.number}${status.cells_total ? ` of ${status.cells_total}` : ''}`
        : 'A cell';
      const body = React.createElement(
        'div',
        { className: 'tml-NotebookFailure' },
        React.createElement('p', null, cell ? [cell.ename, cell.evalue].filter(Boolean).join(': ') : status.message),
        cell && cell.traceback.length > 0
          ? React.createElement('pre', { className: 'tml-NotebookTraceback' }, stripAnsi(cell.traceback.join('\n')))
          : null,
        status.message && cell ? React.createElement('p', { className: 'tml-muted' }, status.message) : null
      );
      const canOpen = !!status.output && status.output_exists;
      const result = await showDialog({
        title: `${where} failed in job ${status.id}`,
        body,
        buttons: canOpen
          ? [Dialog.cancelButton({ label: 'Close' }), Dialog.okButton({ label: 'Open at the failing cell' })]
          : [Dialog.okButton({ label: 'Close' })]
      });
      if (canOpen && result.button.accept) {
        await open(status.output as string, cell?.index ?? null);
      }
    };

    setNotebookJobsContext({ store, open, showFailure, showJob });
    // Right below the job's facts: for a notebook run, where it is matters most.
    sections.add({
      id: 'notebook',
      rank: JobDetailRank.facts + 100,
      detail: NotebookJobProgress,
      row: NotebookRowProgress
    });

    /** The notebook the command acts on: args.path, the file browser's selection, or the current one. */
    const target = (args: ReadonlyPartialJSONObject): { path: string; panel: NotebookPanel | null } | null => {
      if (typeof args.path === 'string' && args.path) {
        return { path: contents.localPath(args.path), panel: findPanel(args.path) };
      }
      if (args.fromBrowser && browser) {
        const item = browser.selectedItems().next();
        const model = item && !item.done ? item.value : null;
        if (model && model.type === 'notebook') {
          return { path: contents.localPath(model.path), panel: findPanel(model.path) };
        }
        return null;
      }
      const panel = tracker.currentWidget;
      return panel ? { path: contents.localPath(panel.context.path), panel } : null;
    };

    const kernelChoices = async (): Promise<IKernelChoice[]> => {
      const specs = app.serviceManager.kernelspecs;
      try {
        await specs.ready;
      } catch {
        return [];
      }
      return Object.values(specs.specs?.kernelspecs ?? {})
        .filter((spec): spec is NonNullable<typeof spec> => !!spec)
        .map(spec => ({ name: spec.name, display_name: spec.display_name || spec.name }))
        .sort((a, b) => a.display_name.localeCompare(b.display_name));
    };

    app.commands.addCommand(NotebookJobsCommandIDs.run, {
      label: args => (args.isPalette ? 'Run Notebook on GPU (Slurm Job)…' : 'Run on GPU…'),
      caption: 'Run the whole notebook headless in a Slurm batch job; the executed copy is saved next to it',
      icon: args => (args.isPalette ? undefined : gpuIcon),
      isEnabled: args => !!target(args),
      execute: async args => {
        const found = target(args);
        if (!found) {
          return null;
        }
        const { path, panel } = found;
        if (panel && panel.context.model.dirty && !panel.context.model.readOnly) {
          try {
            await panel.context.save();
          } catch (error) {
            Notification.error(`Could not save ${path} before running it: ${(error as Error).message}`, {
              autoClose: 10000
            });
            return null;
          }
        }
        const [kernels, remembered] = await Promise.all([
          kernelChoices(),
          state
            ? state.fetch(STATE_KEY).then(
                value => formFromRemembered(value),
                () => null
              )
            : Promise.resolve(null)
        ]);
        const form = new RunNotebookForm({ path, kernels, remembered });
        const result = await new RunNotebookDialog(form).launch();
        const value = result.button.accept ? result.value : null;
        if (!value) {
          return null;
        }
        const job = value.job;
        void state?.save(STATE_KEY, value.remembered as any).catch(() => undefined);
        model.upsert(listedJob(job));
        if (openJobsPanel) {
          void app.commands.execute('tritonml:show-jobs');
        }
        const params = describeParameters(job.parameters ?? {});
        Notification.success(
          `Submitted ${path.split('/').pop()} as job ${job.id}${params ? ` (${params})` : ''}. ` +
            `The result will be ${job.output ?? 'next to the notebook'}.`,
          { autoClose: 6000, actions: [{ label: 'Show', callback: () => showJob(job.id) }] }
        );
        return job.id;
      }
    });

    const category = 'Slurm (tritonml-lab)';
    palette?.addItem({ command: NotebookJobsCommandIDs.run, category, args: { isPalette: true } });

    // The toolbar button ("Run on GPU"); its place comes from schema/notebooks.json.
    const button = (panel: NotebookPanel) => {
      const widget = new ToolbarButton({
        icon: gpuIcon,
        label: 'Run on GPU',
        tooltip: 'Run this notebook as a Slurm batch job and get the executed copy back (Alt+Shift+G)',
        onClick: () => void app.commands.execute(NotebookJobsCommandIDs.run, { path: panel.context.path })
      });
      widget.addClass('tml-RunOnGpuButton');
      return widget;
    };
    if (toolbarRegistry) {
      toolbarRegistry.addFactory<NotebookPanel>('Notebook', TOOLBAR_ITEM, button);
    }

    // The banner, on every notebook (it shows only while a run of that notebook is active).
    const attach = (panel: NotebookPanel) => {
      if (!toolbarRegistry) {
        panel.toolbar.insertAfter('cellType', TOOLBAR_ITEM, button(panel));
      }
      const banner = new NotebookJobBanner(panel, model, store, showJob);
      panel.contentHeader.addWidget(banner);
    };
    tracker.forEach(attach);
    tracker.widgetAdded.connect((_, panel) => attach(panel));

    // When a run ends: its notification (the jobs plugin's, made richer; or our own).
    model.jobChanged.connect((_, change: IJobChange) => {
      const { previous, current } = change;
      if (!isNotebookJob(current) || !previous || !isActive(previous.state) || isActive(current.state)) {
        return;
      }
      const generic = Notification.manager.notifications.find(n => n.message.startsWith(`Job ${current.id} `));
      if (!generic && !notifyEnd) {
        return;
      }
      void store.refresh(current.id).then(status => announceEnd(current, status, generic?.id ?? null));
    });

    const announceEnd = (job: TritonAPI.IJob, status: TritonAPI.INotebookJobStatus | null, replace: string | null) => {
      const actions: Notification.IAction[] = [];
      const output = status?.output && status.output_exists ? status.output : null;
      const failed = status?.failed_cell ?? null;
      if (output && failed && failed.index !== null) {
        actions.push({ label: 'Open failing cell', callback: () => void open(output, failed.index) });
      } else if (output) {
        actions.push({ label: 'Open result', callback: () => void open(output) });
      }
      if (status && failed && failed.traceback.length) {
        actions.push({ label: 'Show error', callback: () => void showFailure(status) });
      } else if (output && failed) {
        actions.push({ label: 'Open result', callback: () => void open(output) });
      }
      actions.push({ label: 'Show job', callback: () => showJob(job.id), displayType: 'link' });
      const family = stateFamily(job.state);
      const ok = status ? status.status === 'completed' : family === 'done';
      const type: Notification.TypeOptions = ok ? 'success' : family === 'cancelled' ? 'warning' : 'error';
      const message = endMessage(job, status);
      const options = { autoClose: ok ? 10000 : false, actions } as const;
      if (replace && Notification.update({ id: replace, message, type, ...options })) {
        return;
      }
      Notification.emit(message, type, options);
    };

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            openJobsPanel = settings.get('openJobsPanel').composite as boolean;
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => console.error('tritonml-lab: could not load the notebook-run settings', reason));
      // Our own end-of-run notification follows the jobs' notification setting.
      settingRegistry
        .load(JOBS_PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            notifyEnd = settings.get('notifyOnStateChange').composite as boolean;
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(() => undefined);
    }
  }
};

/** The job as `GET jobs` lists it (without the detail's and the run's extra keys). */
function listedJob(job: TritonAPI.INotebookJobCreated): TritonAPI.IJob {
  const {
    script: _script,
    spec: _spec,
    efficiency: _efficiency,
    metrics: _metrics,
    advice: _advice,
    notebook: _notebook,
    kernel: _kernel,
    output: _output,
    parameters: _parameters,
    ...listed
  } = job;
  return listed;
}
