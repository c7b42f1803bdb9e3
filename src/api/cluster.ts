/** The cluster: partitions, GPUs and what is free (GET cluster). Types from the generated schema. */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI, Schemas } from './http';

export type IGpuCount = Schemas['GpuCount'];
export type IPartition = Schemas['Partition'];
export type IClusterSummary = Schemas['ClusterView'];
export type IJobDefaults = Schemas['JobDefaults'];
/** GET status: whether the server side started, and why not. */
export type IStartupStatus = Schemas['StartupStatus'];

export const ClusterClient = {
  /** `fresh`: the refresh button; the server asks sinfo again unless its answer is only seconds old. */
  cluster(settings?: ServerConnection.ISettings, fresh = false): Promise<IClusterSummary> {
    return requestAPI<IClusterSummary>(fresh ? 'cluster?fresh=1' : 'cluster', {}, settings);
  }
};
