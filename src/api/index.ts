/**
 * The typed client of the tritonml-lab REST API, one module per feature. The types are aliases of
 * ./schema.ts, generated from tritonml_lab/openapi.yaml, itself generated from the server's pydantic
 * models: run dev/gen-api after changing a model or an endpoint.
 */
import { CatalogClient } from './catalog';
import { ClusterClient } from './cluster';

export * as TritonAPI from './types';
export { APIError, API_NAMESPACE, queryString, requestAPI } from './http';
export { noteServerTime, serverNow } from './clock';
export { AdviceClient } from './advice';
export { JobsClient } from './jobs';
export { NotebookJobsClient } from './notebookjobs';
export { SweepsClient } from './sweeps';

/** The cluster and catalog endpoints. */
export const TritonClient = { ...ClusterClient, ...CatalogClient };
