/**
 * The sweep view: task-state counts as a progress bar, the results table sorted by the sweep's metric
 * with the best point highlighted, the failed tasks with their error, "Retry failed" and "Cancel
 * sweep". The notebook widget (%%tritonml sweep) and the main-area sweep tab both render it.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { TritonAPI } from '../api';
import { StateBadge } from '../jobs/components';
import { formatWhen, stateLabel } from '../jobs/format';
import { curveDomain, curveName, curveOf, hasCurves, pruneLabel, prunedOf } from './curve';
import {
  bestTask,
  cellValue,
  defaultSort,
  errorSummary,
  failedTasks,
  formatParams,
  formatValue,
  metricColumns,
  paramColumns,
  progress,
  SortKey,
  sortTasks
} from './table';
import { SweepModel } from './model';
import { ProgressBar } from './progressbar';
import { Sparkline } from './sparkline';

/** Rows shown before "Show all". */
const ROWS = 100;

const SEARCH_LABELS: { [search: string]: string } = {
  grid: 'Grid',
  random: 'Random search',
  optuna: 'Optuna search'
};

export interface ISweepViewProps {
  model: SweepModel;
  /** Open a task's array job in the jobs sidebar. */
  onShowJob?(jobId: string): void;
  /** Shown when the server does not know the sweep but a saved snapshot is shown. */
  savedNote?: string;
}

/** Re-render on every change of the model. */
function useModel(model: SweepModel): void {
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const onChange = () => setVersion(v => v + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
}

export function SweepView(props: ISweepViewProps): JSX.Element {
  const { model } = props;
  useModel(model);
  const sweep = model.sweep;
  const error = model.error;
  const [busy, setBusy] = React.useState<'retry' | 'cancel' | null>(null);

  if (!sweep) {
    return (
      <div className="tml-Sweep" data-sweep-id={model.id} data-loaded="false">
        {error ? (
          <div className="tml-Banner tml-Banner--error" role="alert">
            <strong>Could not load sweep {model.id}</strong>
            <p>{error.message}</p>
          </div>
        ) : (
          <p className="tml-muted">Loading sweep {model.id}…</p>
        )}
      </div>
    );
  }

  const failed = failedTasks(sweep.tasks);
  const prog = progress(sweep);
  const retry = async () => {
    setBusy('retry');
    try {
      const answer = await model.retryFailed();
      const job = answer.jobs[answer.jobs.length - 1];
      Notification.success(`Retrying ${job?.tasks ?? failed.length} task(s) of sweep ${sweep.id} as job ${job?.id}.`, {
        autoClose: 5000
      });
    } catch (reason) {
      Notification.error(`Could not retry sweep ${sweep.id}: ${(reason as Error).message}`, { autoClose: 10000 });
    } finally {
      setBusy(null);
    }
  };
  const cancel = async () => {
    const result = await showDialog({
      title: `Cancel sweep ${sweep.id}?`,
      body:
        `${prog.active} of ${sweep.total} tasks of “${sweep.name}” are still queued or running; they are ` +
        `stopped (scancel of ${sweep.jobs.length === 1 ? 'its array job' : `its ${sweep.jobs.length} array jobs`}). ` +
        'Tasks that ended keep their results, and "Retry failed" can run the cancelled points later.',
      buttons: [Dialog.cancelButton({ label: 'Keep it' }), Dialog.warnButton({ label: 'Cancel sweep' })],
      defaultButton: 0
    });
    if (!result.button.accept) {
      return;
    }
    setBusy('cancel');
    try {
      await model.cancel();
      Notification.info(`Cancelling sweep ${sweep.id}…`, { autoClose: 3000 });
    } catch (reason) {
      Notification.error(`Could not cancel sweep ${sweep.id}: ${(reason as Error).message}`, { autoClose: 10000 });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div
      className="tml-Sweep"
      data-sweep-id={sweep.id}
      data-loaded="true"
      data-finished={String(sweep.finished)}
      data-cancelled={String(!!sweep.cancelled_at)}
    >
      <div className="tml-Sweep-head">
        <span className="tml-Sweep-title">
          <strong className="tml-Sweep-name">{sweep.name}</strong>
          <span className="tml-muted tml-Sweep-id">sweep {sweep.id}</span>
        </span>
        <span className="tml-Sweep-spacer" />
        {failed.length > 0 && (
          <button
            className="tml-Button tml-Sweep-retry"
            onClick={() => void retry()}
            disabled={busy !== null}
            title="Run the failed, cancelled and timed-out points again, as a new array job of this sweep"
          >
            {busy === 'retry' ? 'Retrying…' : `Retry failed (${failed.length})`}
          </button>
        )}
        {prog.active > 0 && (
          <button
            className="tml-Button tml-Button--danger tml-Sweep-cancel"
            onClick={() => void cancel()}
            disabled={busy !== null}
            title="Cancel every task still queued or running"
          >
            {busy === 'cancel' ? 'Cancelling…' : 'Cancel sweep'}
          </button>
        )}
      </div>
      <p className="tml-Sweep-meta tml-muted">
        {SEARCH_LABELS[sweep.search] ?? 'Sweep'} of {sweep.total} point{sweep.total === 1 ? '' : 's'}
        {sweep.metric ? ` · by ${sweep.metric} (${sweep.mode === 'max' ? 'highest' : 'lowest'} best)` : ''}
        {sweep.parallel ? ` · ${sweep.parallel} at once` : ''}
        {sweep.prune ? ` · ${pruneLabel(sweep.prune, sweep.search)}` : ''}
        {` · array job${sweep.jobs.length === 1 ? '' : 's'} ${sweep.jobs.map(job => job.id).join(', ')}`}
        {sweep.cancelled_at ? ` · cancelled ${formatWhen(sweep.cancelled_at)}` : ''}
      </p>
      <ProgressBar progress={prog} pruned={sweep.pruned ?? 0} />
      {props.savedNote && <p className="tml-muted tml-small tml-Sweep-saved">{props.savedNote}</p>}
      {error && (
        <div className="tml-Banner tml-Banner--error" role="alert">
          <strong>Could not refresh sweep {sweep.id}</strong>
          <p>{error.message}</p>
          <p className="tml-muted">Showing the last known state.</p>
        </div>
      )}
      {sweep.slurm_error && (
        <p className="tml-Sweep-warning" role="status">
          Slurm did not answer ({sweep.slurm_error}); task states may be behind.
        </p>
      )}
      {sweep.best && sweep.metric && (
        <p className="tml-Sweep-best">
          Best so far: <strong>{formatValue((sweep.best.result ?? {})[sweep.metric])}</strong> {sweep.metric} at{' '}
          <code>{formatParams(sweep.best.params)}</code>
        </p>
      )}
      <ResultsTable sweep={sweep} onShowJob={props.onShowJob} />
      {sweep.truncated && (
        <p className="tml-muted tml-small">
          Saved with the first {sweep.tasks.length} rows: %tritonml sweep-results {sweep.id} gives them all.
        </p>
      )}
      {failed.length > 0 && <FailedTasks tasks={failed} onShowJob={props.onShowJob} />}
    </div>
  );
}

function ResultsTable(props: { sweep: TritonAPI.ISweep; onShowJob?(jobId: string): void }): JSX.Element {
  const { sweep } = props;
  const [sort, setSort] = React.useState<{ key: SortKey; direction: 'asc' | 'desc' } | null>(null);
  const [all, setAll] = React.useState(false);
  const params = paramColumns(sweep.tasks, sweep.space);
  const metrics = metricColumns(sweep.tasks, sweep.metric);
  const order = sort ?? defaultSort(sweep);
  const rows = sortTasks(sweep.tasks, order.key, order.direction);
  const shown = all ? rows : rows.slice(0, ROWS);
  // The server marks the best point; a saved snapshot without the mark gets it from the same rule.
  const bestIndex = sweep.best?.index ?? bestTask(sweep.tasks, sweep.metric, sweep.mode)?.index ?? null;
  const curves = hasCurves(sweep.tasks);
  const domain = curves ? curveDomain(sweep.tasks, sweep.metric) : null;
  const firstCurve = sweep.tasks.map(curveOf).find(curve => curve !== null);
  const curveLabel = (firstCurve && curveName(firstCurve, sweep.metric)) || 'value';
  const header = (key: SortKey, label: string, className: string) => {
    const active = order.key === key;
    return (
      <th
        key={key}
        className={className}
        aria-sort={active ? (order.direction === 'asc' ? 'ascending' : 'descending') : 'none'}
      >
        <button
          className="tml-SweepTable-sort"
          title={`Sort by ${label}`}
          onClick={() => setSort({ key, direction: active && order.direction === 'asc' ? 'desc' : 'asc' })}
        >
          {label}
          {active ? (order.direction === 'asc' ? ' ▲' : ' ▼') : ''}
        </button>
      </th>
    );
  };
  return (
    <div className="tml-SweepTable-wrap">
      <table className="tml-SweepTable" aria-label={`Results of sweep ${sweep.id}`}>
        <thead>
          <tr>
            {header('index', '#', 'tml-SweepTable-index')}
            {header('state', 'state', 'tml-SweepTable-state')}
            {curves && (
              <th className="tml-SweepTable-curve" title={`${curveLabel} per step, every row on the same scale`}>
                {curveLabel} per step
              </th>
            )}
            {params.map(name => header(`param:${name}`, name, 'tml-SweepTable-param'))}
            {metrics.map(name =>
              header(`result:${name}`, name, `tml-SweepTable-metric${name === sweep.metric ? ' tml-mod-main' : ''}`)
            )}
          </tr>
        </thead>
        <tbody>
          {shown.map(task => {
            const best = task.index === bestIndex;
            const pruned = prunedOf(task);
            return (
              <tr
                key={task.index}
                className={`tml-SweepTable-row${best ? ' tml-SweepTable-row--best' : ''}${
                  pruned ? ' tml-SweepTable-row--pruned' : ''
                }`}
                data-index={task.index}
                data-state={task.state}
                data-best={String(best)}
                data-pruned={String(!!pruned)}
                title={best ? 'The best point' : undefined}
              >
                <td className="tml-SweepTable-index">
                  {props.onShowJob ? (
                    <button
                      className="tml-SweepTable-job"
                      title={`Show array task ${task.job_id} in the jobs sidebar`}
                      onClick={() => props.onShowJob?.(task.job_id)}
                    >
                      {task.index}
                    </button>
                  ) : (
                    task.index
                  )}
                </td>
                <td className="tml-SweepTable-state">
                  <StateBadge state={task.state} />
                  {best && (
                    <span className="tml-SweepTable-star" aria-label="best">
                      ★
                    </span>
                  )}
                  {pruned && (
                    <span className="tml-SweepTable-pruned" title={pruned.why || 'Stopped early as clearly worse'}>
                      pruned at step {pruned.step}
                    </span>
                  )}
                </td>
                {curves && (
                  <td className="tml-SweepTable-curve">
                    <Sparkline task={task} metric={sweep.metric} domain={domain} best={best} />
                  </td>
                )}
                {params.map(name => (
                  <td key={`p-${name}`} className="tml-SweepTable-param">
                    {formatValue(cellValue(task, `param:${name}`))}
                  </td>
                ))}
                {metrics.map(name => (
                  <td
                    key={`m-${name}`}
                    className={`tml-SweepTable-metric${name === sweep.metric ? ' tml-mod-main' : ''}`}
                  >
                    {formatValue(cellValue(task, `result:${name}`))}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.length > shown.length && (
        <button className="tml-Button tml-Sweep-more" onClick={() => setAll(true)}>
          Show all {rows.length} rows
        </button>
      )}
    </div>
  );
}

function FailedTasks(props: { tasks: TritonAPI.ISweepTask[]; onShowJob?(jobId: string): void }): JSX.Element {
  return (
    <section className="tml-SweepFailed">
      <h4 className="tml-SweepFailed-title">
        {props.tasks.length} task{props.tasks.length === 1 ? '' : 's'} did not complete
      </h4>
      {props.tasks.map(task => (
        <details key={task.index} className="tml-SweepFailed-task" data-index={task.index} data-state={task.state}>
          <summary>
            <span className="tml-SweepFailed-label">
              #{task.index} {stateLabel(task.state)}
              {task.exit_code ? ` (exit code ${task.exit_code})` : ''}
            </span>{' '}
            <code className="tml-SweepFailed-params">{formatParams(task.params)}</code>{' '}
            <span className="tml-SweepFailed-summary">{errorSummary(task.error)}</span>
          </summary>
          <pre className="tml-SweepFailed-error">{task.error || 'No error text (see the task’s log).'}</pre>
          {props.onShowJob && (
            <button className="tml-Button tml-SweepFailed-job" onClick={() => props.onShowJob?.(task.job_id)}>
              Show task {task.job_id}
            </button>
          )}
        </details>
      ))}
    </section>
  );
}
