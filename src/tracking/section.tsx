/**
 * "TensorBoard" in a job's detail (jobs sidebar): opens the job's log folder, or for an array job of a
 * sweep, the whole sweep (each task one run named by its parameters). One `GET sweeps?job=` per job
 * opened (answered from the sweep manifests, no Slurm call).
 */
import * as React from 'react';

import { SweepsClient, TritonAPI } from '../api';
import type { ITensorBoardOpen } from '../api/tracking';

export function TensorBoardSection(props: {
  job: TritonAPI.IJob;
  open: (target: ITensorBoardOpen) => void;
}): JSX.Element {
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
    </section>
  );
}
