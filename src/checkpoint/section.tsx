/**
 * The "Time limit" section of a job's detail: time left with a warning badge in the last 10 % of the
 * limit, the long-job options (warn, requeue), and the restart history (each run's start, end, node).
 * Also the time-left badge of a job's row in the list, in the last 10 % only.
 */
import * as React from 'react';

import { TritonAPI } from '../api';
import { useTicker } from '../jobs/components';
import { formatDuration, formatWhen } from '../jobs/format';
import { IJobSectionProps } from '../jobs/tokens';
import { checkpointOf, nearLimit, outcomeLabel, runsOf, shortDuration, timeLeft } from './timeleft';

export function TimeLeftBadge({ job }: { job: TritonAPI.IJob }): JSX.Element | null {
  const left = timeLeft(job);
  if (left === null) {
    return null;
  }
  const warn = nearLimit(job);
  return (
    <span
      className={`tml-Badge tml-TimeLeft${warn ? ' tml-Badge--warn tml-TimeLeft--warn' : ''}`}
      title={warn ? 'In the last 10 % of its time limit' : 'Time left before the time limit'}
      data-warn={warn ? 'true' : 'false'}
    >
      {shortDuration(left)} left
    </span>
  );
}

/** In a job's row: the badge only near the limit (the detail shows it always). */
export function TimeLeftRow({ job }: { job: TritonAPI.IJob }): JSX.Element | null {
  useTicker(job.state === 'RUNNING');
  return nearLimit(job) ? <TimeLeftBadge job={job} /> : null;
}

export function CheckpointSection({ job, detail }: IJobSectionProps): JSX.Element | null {
  useTicker(job.state === 'RUNNING');
  const checkpoint = checkpointOf(detail);
  const runs = runsOf(job, detail);
  const left = timeLeft(job);
  if (left === null && !checkpoint && runs.length < 2) {
    return null;
  }
  return (
    <section className="tml-JobSection tml-Checkpoint">
      <h3>Time limit</h3>
      {left !== null && (
        <p className="tml-Checkpoint-left">
          Time left: {formatDuration(left)} <TimeLeftBadge job={job} />
        </p>
      )}
      <p className="tml-Checkpoint-options">
        {checkpoint
          ? `Warned ${checkpoint.warn.replace(/s$/, ' s')} before the limit (SIGUSR1; tritonml.should_checkpoint()); ` +
            (checkpoint.requeue
              ? `requeues itself up to ${checkpoint.requeue} time${checkpoint.requeue === 1 ? '' : 's'}.`
              : 'no requeue.')
          : 'No warning before the limit: the job is stopped when its time is up. Use --warn and --requeue ' +
            'to checkpoint and resume.'}
      </p>
      {runs.length > 0 && (
        <table className="tml-Checkpoint-runs" aria-label="Restart history">
          <thead>
            <tr>
              <th>Run</th>
              <th>Started</th>
              <th>Ended</th>
              <th>Node</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run, i) => (
              <tr key={run.run} data-run={run.run}>
                <td>{run.run === 0 ? 'first' : `restart ${run.run}`}</td>
                <td>{run.started ? formatWhen(run.started) : '–'}</td>
                <td>{run.ended ? formatWhen(run.ended) : '–'}</td>
                <td>{run.nodes ?? '–'}</td>
                <td>{outcomeLabel(run, i === runs.length - 1, job.state)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
