/** Every API type by feature, gathered as the `TritonAPI` namespace (src/api/index.ts). */
export type * from './advice';
export type * from './catalog';
export type * from './cluster';
export type * from './jobs';
export type * from './metrics';
export type * from './notebookjobs';
export type * from './sweeps';
export type { IClientAction, IErrorBody, IServerEvent, Schemas } from './http';
