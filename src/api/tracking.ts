/** TensorBoard run by the server (tritonml_lab/tracking/): open for a job, a sweep or a folder; list; stop. */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI, Schemas, segment } from './http';

/** POST tensorboards: exactly one of job, sweep and path. */
export type ITensorBoardOpen = Schemas['TensorBoardOpen'];
/** A running TensorBoard; `url` is under the server's base_url, ready for a tab. */
export type ITensorBoard = Schemas['TensorBoardInfo'];

/** POST wandb-sync: a job's or sweep's W&B offline runs, and what `wandb sync` did with them. */
export type IWandbSync = Schemas['WandbSync'];
export type IWandbSyncResult = Schemas['WandbSyncResult'];

export const TrackingClient = {
  syncWandb(body: IWandbSync, settings?: ServerConnection.ISettings): Promise<IWandbSyncResult> {
    return requestAPI<IWandbSyncResult>('wandb-sync', { method: 'POST', body: JSON.stringify(body) }, settings);
  },

  open(target: ITensorBoardOpen, settings?: ServerConnection.ISettings): Promise<ITensorBoard> {
    return requestAPI<ITensorBoard>('tensorboards', { method: 'POST', body: JSON.stringify(target) }, settings);
  },

  list(settings?: ServerConnection.ISettings): Promise<Schemas['TensorBoardList']> {
    return requestAPI<Schemas['TensorBoardList']>('tensorboards', {}, settings);
  },

  stop(id: string, settings?: ServerConnection.ISettings): Promise<Schemas['TensorBoardList']> {
    return requestAPI<Schemas['TensorBoardList']>(`tensorboards/${segment(id)}`, { method: 'DELETE' }, settings);
  }
};
