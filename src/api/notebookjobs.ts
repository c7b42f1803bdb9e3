/** Notebook runs, "Run on GPU" (POST notebook-jobs, GET notebook-jobs/{id}, GET notebook-parameters). */
import { ServerConnection } from '@jupyterlab/services';

import { queryString, requestAPI, Schemas, segment } from './http';

/** What POST notebook-jobs accepts: the notebook, its parameters and kernel, plus resource keys. */
export type INotebookJobRequest = Schemas['NotebookJobRequest'];
/** POST notebook-jobs 201: the job, plus where its executed notebook will be. */
export type INotebookJobCreated = Schemas['NotebookJobCreated'];
/** GET notebook-jobs/{id}: the run as the panel shows it. */
export type INotebookJobStatus = Schemas['NotebookJobStatus'];
/** The progress states of a notebook run (beside Slurm's own `state`). */
export type NotebookRunStatus = INotebookJobStatus['status'];
export type INotebookExecutingCell = Schemas['ExecutingCell'];
export type INotebookFailedCell = Schemas['FailedCell'];
/** One variable of the cell tagged `parameters`. */
export type INotebookParameter = Schemas['Parameter'];
/** GET notebook-parameters?path=: what the "Run on GPU" dialog shows. */
export type INotebookParameters = Schemas['NotebookParameters'];

export const NotebookJobsClient = {
  submit(request: INotebookJobRequest, settings?: ServerConnection.ISettings): Promise<INotebookJobCreated> {
    return requestAPI<INotebookJobCreated>(
      'notebook-jobs',
      { method: 'POST', body: JSON.stringify(request) },
      settings
    );
  },

  status(id: string, settings?: ServerConnection.ISettings): Promise<INotebookJobStatus> {
    return requestAPI<INotebookJobStatus>(`notebook-jobs/${segment(id)}`, {}, settings);
  },

  parameters(path: string, settings?: ServerConnection.ISettings): Promise<INotebookParameters> {
    return requestAPI<INotebookParameters>('notebook-parameters' + queryString({ path }), {}, settings);
  }
};
