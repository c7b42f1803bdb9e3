/**
 * A notebook run's progress inside the jobs panel: "cell k of N" on its row, and in its detail the
 * running cell's live output, the failing cell with its traceback, and "Open result". The plugin
 * adds both as a section of the job views (IJobDetailSections); they render nothing for other jobs.
 */
import * as React from 'react';

import { TritonAPI } from '../api';
import { FollowingPre } from '../jobs/components';
import { isActive } from '../jobs/format';
import { notebookJobsContext } from './context';
import { describeParameters } from './params';
import { isShown } from './store';
import { cellFraction, cellProgress, isNotebookJob, stripAnsi } from './text';

/**
 * The run's last progress read, following it while the element behind `ref` is on screen and the
 * job is active. `eager`: read once even when the job already ended.
 */
export function useNotebookStatus(
  id: string | null,
  ref: React.RefObject<HTMLElement>,
  eager: boolean
): TritonAPI.INotebookJobStatus | null {
  const context = notebookJobsContext();
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    if (!context || !id) {
      return;
    }
    const onChange = (_: unknown, changed: string) => {
      if (changed === id) {
        setVersion(v => v + 1);
      }
    };
    context.store.changed.connect(onChange);
    const watch = context.store.watch(id, () => isShown(ref.current), { eager });
    return () => {
      context.store.changed.disconnect(onChange);
      watch.dispose();
    };
  }, [context, id, eager]);
  return context && id ? context.store.get(id) : null;
}

export function ProgressBar({ fraction, label }: { fraction: number | null; label?: string }): JSX.Element | null {
  if (fraction === null) {
    return null;
  }
  const percent = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  return (
    <span
      className="tml-NotebookProgressBar"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-label={label ?? 'cells done'}
    >
      <span className="tml-NotebookProgressBar-fill" style={{ width: `${percent}%` }} />
    </span>
  );
}

/** "notebook · cell 3 of 12" under a notebook run's name in the jobs list. */
export function NotebookRowProgress({ job }: { job: TritonAPI.IJob }): JSX.Element | null {
  const ref = React.useRef<HTMLSpanElement>(null);
  const notebook = isNotebookJob(job);
  const status = useNotebookStatus(notebook && isActive(job.state) ? job.id : null, ref, false);
  if (!notebook || !notebookJobsContext()) {
    return null;
  }
  const progress = status && status.id === job.id ? cellProgress(status) : null;
  return (
    <span ref={ref} className="tml-NotebookRowProgress" data-status={status?.status ?? ''}>
      <span className="tml-NotebookRowProgress-kind">notebook</span>
      {progress && <span className="tml-NotebookRowProgress-cell">{progress}</span>}
    </span>
  );
}

function Traceback({ cell }: { cell: TritonAPI.INotebookFailedCell }): JSX.Element {
  const text = stripAnsi(cell.traceback.join('\n'));
  return (
    <pre className="tml-NotebookTraceback" aria-label="Traceback" tabIndex={0}>
      {text || `${cell.ename}: ${cell.evalue}`}
    </pre>
  );
}

/** The notebook section of a notebook run's detail. */
export function NotebookJobProgress({ job }: { job: TritonAPI.IJob }): JSX.Element | null {
  const ref = React.useRef<HTMLElement>(null);
  const notebook = isNotebookJob(job);
  const status = useNotebookStatus(notebook ? job.id : null, ref, true);
  const context = notebookJobsContext();
  if (!notebook || !context) {
    return null;
  }
  const source = status?.notebook ?? job.origin?.notebook ?? null;
  const progress = cellProgress(status);
  const failed = status?.failed_cell ?? null;
  const executing = status?.executing ?? null;
  const error = context.store.error(job.id);
  const params = status ? describeParameters(status.parameters, 200) : '';
  return (
    <section ref={ref} className="tml-JobSection tml-NotebookRun" data-status={status?.status ?? ''}>
      <div className="tml-JobSection-head">
        <h3>Notebook run</h3>
        {progress && <span className="tml-NotebookRun-progress">{progress}</span>}
      </div>
      <ProgressBar fraction={cellFraction(status)} />
      <dl className="tml-JobFacts">
        {source && (
          <>
            <dt>Notebook</dt>
            <dd title={source}>
              <button className="tml-LinkButton" onClick={() => void context.open(source)}>
                {source}
              </button>
            </dd>
          </>
        )}
        {(status?.kernel ?? job.origin?.kernel) && (
          <>
            <dt>Kernel</dt>
            <dd>{status?.kernel ?? job.origin?.kernel}</dd>
          </>
        )}
        {params && (
          <>
            <dt>Parameters</dt>
            <dd title={params}>{params}</dd>
          </>
        )}
        {status?.output && (
          <>
            <dt>Result</dt>
            <dd title={status.output}>{status.output}</dd>
          </>
        )}
      </dl>
      {error && !status && <p className="tml-LogPane-error">{error}</p>}
      {executing && (
        <div className="tml-NotebookRun-executing">
          <span className="tml-Field-label">Output of cell {executing.number}</span>
          {executing.output_tail ? (
            <FollowingPre
              className="tml-Log tml-NotebookRun-tail"
              text={stripAnsi(executing.output_tail)}
              label={`Output of cell ${executing.number}`}
            />
          ) : (
            <p className="tml-muted tml-small">No output yet.</p>
          )}
        </div>
      )}
      {status?.message && <p className="tml-NotebookRun-message">{status.message}</p>}
      {failed && (
        <div className="tml-NotebookRun-failed" role="alert">
          <strong>
            Cell {failed.number ?? '?'}
            {status?.cells_total ? ` of ${status.cells_total}` : ''} failed
            {failed.ename ? `: ${failed.ename}` : ''}
          </strong>
          {failed.evalue && <p>{failed.evalue}</p>}
          {failed.traceback.length > 0 && <Traceback cell={failed} />}
        </div>
      )}
      <div className="tml-NotebookRun-actions">
        {status?.output && status.output_exists && (
          <button
            className="tml-Button tml-Button--primary tml-NotebookRun-open"
            onClick={() => void context.open(status.output as string)}
          >
            Open result
          </button>
        )}
        {status?.output && status.output_exists && failed && failed.index !== null && (
          <button
            className="tml-Button tml-NotebookRun-openFailed"
            onClick={() => void context.open(status.output as string, failed.index)}
          >
            Open at the failing cell
          </button>
        )}
      </div>
    </section>
  );
}
