/**
 * Result tracking in the lab: "Open TensorBoard" (palette, a job's detail, a folder's context menu in
 * the file browser) opens a TensorBoard run by the Jupyter server in a main-area tab (an IFrame at its
 * URL under the server's base_url; the server's login cookie authenticates it). The server reuses a
 * running TensorBoard for the same folders and stops it when no tab has asked for a while.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, MainAreaWidget, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { IFrame } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ITensorBoardOpen, TrackingClient } from '../api/tracking';
import { IJobDetailSections, IJobSectionProps, JobDetailRank } from '../jobs/tokens';
import { describeTarget, parseTarget, tabTitle, targetOf, widgetId } from './model';
import { TensorBoardSection } from './section';

export namespace TrackingCommandIDs {
  export const openTensorBoard = 'tritonml:open-tensorboard';
}

export const trackingPlugin: JupyterFrontEndPlugin<void> = {
  id: 'tritonml-lab:tracking',
  description: 'Open TensorBoard for a job, a sweep or a folder, served through the Jupyter server, in a tab.',
  autoStart: true,
  requires: [IJobDetailSections],
  optional: [ICommandPalette, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    sections: IJobDetailSections,
    palette: ICommandPalette | null,
    browser: IDefaultFileBrowser | null
  ) => {
    const tracker = new WidgetTracker<MainAreaWidget<IFrame>>({ namespace: 'tritonml-tensorboard' });

    const open = async (target: ITensorBoardOpen): Promise<void> => {
      const what = describeTarget(target);
      const starting = Notification.emit(`Starting TensorBoard for ${what}…`, 'in-progress', { autoClose: false });
      let board;
      try {
        board = await TrackingClient.open(target);
      } catch (error) {
        Notification.update({
          id: starting,
          message: `TensorBoard for ${what}: ${(error as Error).message}`,
          type: 'error',
          autoClose: 12000
        });
        return;
      }
      Notification.dismiss(starting);
      const id = widgetId(board);
      const existing = tracker.find(widget => widget.id === id);
      if (existing && !board.started) {
        app.shell.activateById(existing.id);
        return;
      }
      existing?.dispose(); // it was stopped when idle: a fresh page for the new one
      const frame = new IFrame({ sandbox: ['allow-scripts', 'allow-same-origin', 'allow-downloads', 'allow-popups'] });
      frame.url = board.url;
      const widget = new MainAreaWidget({ content: frame });
      widget.id = id;
      widget.title.label = tabTitle(board);
      widget.title.caption = `${board.logdirs.join(', ')} (stopped after ${Math.round(board.idle_seconds / 60)} min unused)`;
      widget.title.closable = true;
      widget.addClass('tml-TensorBoard');
      void tracker.add(widget);
      app.shell.add(widget, 'main'); // a whole tab: TensorBoard needs the width
      app.shell.activateById(widget.id);
    };

    app.commands.addCommand(TrackingCommandIDs.openTensorBoard, {
      label: args => {
        const target = targetOf(args);
        if (target) {
          return `Open TensorBoard for ${describeTarget(target)}`;
        }
        return args.fromBrowser ? 'Open TensorBoard Here' : 'Open TensorBoard…';
      },
      caption: 'TensorBoard for a job, a sweep (each task one run) or a folder, in a tab (args: job, sweep or path)',
      execute: async args => {
        let target = targetOf(args);
        if (!target && args.fromBrowser && browser) {
          const item = browser.selectedItems().next();
          const model = item && !item.done ? item.value : null;
          target = model && model.type === 'directory' ? { path: model.path } : { path: browser.model.path || '.' };
        }
        if (!target) {
          const answer = await InputDialog.getText({
            title: 'Open TensorBoard',
            label: 'A job id (123), a sweep (sweep 123), or a folder',
            placeholder: 'sweep 123'
          });
          if (!answer.button.accept || !answer.value) {
            return;
          }
          target = parseTarget(answer.value);
          if (!target) {
            return;
          }
        }
        await open(target);
      }
    });
    palette?.addItem({ command: TrackingCommandIDs.openTensorBoard, category: 'Slurm' });
    app.contextMenu.addItem({
      command: TrackingCommandIDs.openTensorBoard,
      args: { fromBrowser: true },
      selector: '.jp-DirListing-item[data-isdir="true"]',
      rank: 60
    });

    // In a job's detail, after the sweep link: the job's logs, or its whole sweep.
    sections.add({
      id: 'tensorboard',
      rank: JobDetailRank.facts + 160,
      detail: (props: IJobSectionProps) =>
        React.createElement(TensorBoardSection, {
          job: props.job,
          detail: props.detail,
          open: (target: ITensorBoardOpen) => void app.commands.execute(TrackingCommandIDs.openTensorBoard, target)
        })
    });
  }
};
