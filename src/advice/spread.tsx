/**
 * "Tasks of the array" in the detail of an array job's task (a sweep): median and worst GPU
 * utilisation, memory peaks and run time over its tasks, and the tasks that stand out
 * (GET jobs/{id}/spread, one sacct call).
 */
import * as React from 'react';

import { AdviceClient, APIError, TritonAPI } from '../api';
import { formatBytes, formatDuration } from '../jobs/format';
import { IJobSectionProps } from '../jobs/tokens';

export interface ISpreadLine {
  key: string;
  label: string;
  value: string;
}

/** The figures as rows (pure: the tests check them). */
export function spreadLines(s: TritonAPI.ISpread): ISpreadLine[] {
  const lines: ISpreadLine[] = [];
  const task = (id: string | null) => (id ? ` (task ${id.split('_').pop()})` : '');
  if (s.gpu_util.median !== null) {
    lines.push({
      key: 'gpu',
      label: 'GPU utilisation',
      value: `median ${Math.round(s.gpu_util.median)}%, lowest ${Math.round(s.gpu_util.worst ?? 0)}%${task(s.gpu_util.worst_task)}`
    });
  }
  for (const [key, label, fig] of [
    ['memory', 'Memory peak', s.memory_peak],
    ['gpu-memory', 'GPU memory peak', s.gpu_memory_peak]
  ] as const) {
    if (fig.median !== null) {
      lines.push({
        key,
        label,
        value: `median ${formatBytes(fig.median)}, highest ${formatBytes(fig.worst)}${task(fig.worst_task)}`
      });
    }
  }
  if (s.elapsed.median !== null) {
    lines.push({
      key: 'time',
      label: 'Run time',
      value: `median ${formatDuration(s.elapsed.median)}, longest ${formatDuration(s.elapsed.worst)}${task(s.elapsed.worst_task)}`
    });
  }
  return lines;
}

export function ArraySpread(props: IJobSectionProps): JSX.Element | null {
  const base = props.job.array_job_id;
  const [spread, setSpread] = React.useState<TritonAPI.ISpread | null>(null);
  const [error, setError] = React.useState('');
  React.useEffect(() => {
    if (!base) {
      return;
    }
    let cancelled = false;
    AdviceClient.spread(base)
      .then(answer => !cancelled && setSpread(answer))
      .catch(reason => !cancelled && setError(reason instanceof APIError ? reason.message : String(reason)));
    return () => {
      cancelled = true;
    };
  }, [base, props.job.state]);
  if (!base || (!spread && !error) || (spread && spread.tasks < 2)) {
    return null;
  }
  return (
    <section className="tml-JobSection tml-ArraySpread">
      <h3>Tasks of array {base}</h3>
      {error && <p className="tml-error tml-small">Cannot read the tasks: {error}</p>}
      {spread && (
        <>
          <p className="tml-small tml-muted">{spread.tasks} tasks in Slurm’s accounting.</p>
          <table className="tml-EfficiencyReport-table">
            <tbody>
              {spreadLines(spread).map(line => (
                <tr key={line.key} data-figure={line.key}>
                  <th scope="row">{line.label}</th>
                  <td>{line.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {spread.outliers.length > 0 && (
            <ul className="tml-ArraySpread-outliers">
              {spread.outliers.map(o => (
                <li key={`${o.task}-${o.why}`} data-task={o.task}>
                  Task {o.task.split('_').pop()}: {o.why}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
