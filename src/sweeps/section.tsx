/**
 * "Sweep <id>" in a job's detail (jobs sidebar; added by the sweeps plugin), for the array jobs of a
 * sweep: which sweep, and a button that opens the sweep view in a main-area tab. One
 * `GET sweeps?job=` per job opened (the server answers from the sweep manifests, without asking Slurm).
 */
import * as React from 'react';

import { SweepsClient, TritonAPI } from '../api';
import { canOpenSweeps, openSweep } from './open';

export function SweepSection({ jobId }: { jobId: string }): JSX.Element | null {
  const base = jobId.split('_')[0];
  const [sweep, setSweep] = React.useState<TritonAPI.ISweepSummary | null>(null);
  React.useEffect(() => {
    let cancelled = false;
    setSweep(null);
    SweepsClient.list(base)
      .then(answer => {
        if (!cancelled) {
          setSweep(answer.sweeps[0] ?? null);
        }
      })
      .catch(() => undefined); // not a sweep's job, as far as this server can tell
    return () => {
      cancelled = true;
    };
  }, [base]);
  if (!sweep) {
    return null;
  }
  return (
    <section className="tml-JobSection tml-JobSweep" data-sweep-id={sweep.id}>
      <h3>Sweep {sweep.id}</h3>
      <p className="tml-JobSweep-text">
        This job runs points of the sweep “{sweep.name}” ({sweep.total} point{sweep.total === 1 ? '' : 's'}
        {sweep.metric ? `, by ${sweep.metric}` : ''}
        {sweep.jobs.length > 1 ? `, array jobs ${sweep.jobs.join(', ')}` : ''}).
      </p>
      {canOpenSweeps() && (
        <button className="tml-Button tml-Button--primary tml-JobSweep-open" onClick={() => openSweep(sweep.id)}>
          Open sweep {sweep.id}
        </button>
      )}
    </section>
  );
}
