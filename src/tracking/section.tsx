/**
 * "TensorBoard" in a job's detail (jobs sidebar): opens the job's log folder, or for an array job of a
 * sweep, the whole sweep (each task one run named by its parameters). One `GET sweeps?job=` per job
 * opened (answered from the sweep manifests, no Slurm call).
 */
import * as React from 'react';

import { Notification } from '@jupyterlab/apputils';

import { SweepsClient, TritonAPI } from '../api';
import { ITensorBoardOpen, TrackingClient } from '../api/tracking';

/** "Sync to W&B": the server's `wandb sync` of the job's or sweep's offline runs, its answer as a toast. */
async function syncWandb(target: { job?: string; sweep?: string }): Promise<void> {
  try {
    const answer = await TrackingClient.syncWandb(target);
    const ok = answer.ran && answer.exit_code === 0;
    Notification.emit(answer.message, ok ? 'success' : answer.ran ? 'error' : 'info', { autoClose: 12000 });
  } catch (error) {
    Notification.error(`Sync to W&B: ${(error as Error).message}`, { autoClose: 12000 });
  }
}

export function TensorBoardSection(props: {
  job: TritonAPI.IJob;
  detail: TritonAPI.IJobDetail | null;
  open: (target: ITensorBoardOpen) => void;
}): JSX.Element {
  const wandb = Boolean(props.detail?.spec?.env?.WANDB_PROJECT);
  const base = props.job.id.split('_')[0];
  const [sweep, setSweep] = React.useState<string | null>(null);
  React.useEffect(() => {
    let cancelled = false;
    setSweep(null);
    SweepsClient.list(base)
      .then(answer => {
        if (!cancelled) {
          setSweep(answer.sweeps[0]?.id ?? null);
        }
      })
      .catch(() => undefined); // not a sweep's job, as far as this server can tell
    return () => {
      cancelled = true;
    };
  }, [base]);
  const target: ITensorBoardOpen = sweep ? { sweep } : { job: base };
  return (
    <section className="tml-JobSection tml-JobTensorBoard">
      <h3>TensorBoard</h3>
      <p className="tml-JobTensorBoard-text">
        {sweep
          ? `Every task of sweep ${sweep} as one run, named by its parameters (its tritonml.report(step=...) values and what it logged to $TRITONML_LOG_DIR).`
          : 'What the job logged to $TRITONML_LOG_DIR (its tensorboard/ folder).'}
      </p>
      <button className="tml-Button tml-JobTensorBoard-open" onClick={() => props.open(target)}>
        Open TensorBoard
      </button>
      {wandb && (
        <button
          className="tml-Button tml-JobTensorBoard-wandb"
          title="wandb sync of its offline runs (in the Jupyter server's environment)"
          onClick={() => void syncWandb(sweep ? { sweep } : { job: base })}
        >
          Sync to W&B
        </button>
      )}
    </section>
  );
}
