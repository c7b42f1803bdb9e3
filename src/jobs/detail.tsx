/**
 * The detail of one job inside the jobs sidebar: facts, live logs, efficiency, script, Cancel, and
 * the sections other features add (IJobDetailSections: resources, notebook progress, sweep).
 */
import { caretLeftIcon, copyIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { APIError, JobsClient, TritonAPI } from '../api';
import { formatTimeLimit } from '../cluster/format';
import { IJobsActions } from './actions';
import { FollowingPre, pendingText, StateBadge, useLogFollower, useTicker } from './components';
import {
  elapsedSeconds,
  formatBytes,
  formatDuration,
  formatGpus,
  formatPercent,
  formatWhen,
  isActive,
  stateFamily
} from './format';
import { LogStream } from './logfollow';
import { JobsModel } from './model';
import { IJobDetailSection, JobDetailRank } from './tokens';

interface IDetailProps {
  id: string;
  model: JobsModel;
  actions: IJobsActions;
  /** What other features add (see IJobDetailSections). */
  sections: readonly IJobDetailSection[];
  onBack(): void;
  scroller: HTMLElement;
}

export function JobDetailView(props: IDetailProps): JSX.Element {
  const { id, model, actions, sections } = props;
  const [detail, setDetail] = React.useState<TritonAPI.IJobDetail | null>(null);
  const [error, setError] = React.useState<APIError | null>(null);
  const [stream, setStream] = React.useState<LogStream>('stdout');
  const [cancelling, setCancelling] = React.useState(false);
  const job: TritonAPI.IJob | null = model.get(id) ?? detail;
  const state = job?.state ?? null;
  const active = state === null ? false : isActive(state);
  useTicker(stateFamily(state) === 'running');

  React.useLayoutEffect(() => {
    props.scroller.scrollTop = 0;
  }, []);

  // The script, spec and efficiency: once on open, and again on each state change (the
  // efficiency figures exist once the job ended; sacct may need a few seconds more).
  React.useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let tries = 0;
    const load = () => {
      JobsClient.get(id)
        .then(answer => {
          if (cancelled) {
            return;
          }
          setDetail(answer);
          setError(null);
          if (!isActive(answer.state) && !answer.efficiency?.complete && tries++ < 3) {
            timer = setTimeout(load, 5000);
          }
        })
        .catch(reason => {
          if (!cancelled) {
            setError(reason instanceof APIError ? reason : new APIError(String(reason), 0));
          }
        });
    };
    load();
    return () => {
      cancelled = true;
      if (timer) {
        clearTimeout(timer);
      }
    };
  }, [id, state]);

  // The added sections whose rank lies in [from, to): those that sit between two built-in parts.
  const added = (from: number, to: number, job: TritonAPI.IJob) =>
    sections
      .filter(s => s.rank >= from && s.rank < to)
      .map(section => section.detail && <section.detail key={section.id} job={job} detail={detail} />);

  const cancel = async () => {
    if (!job) {
      return;
    }
    setCancelling(true);
    try {
      await actions.cancel(job);
    } finally {
      setCancelling(false);
    }
  };

  return (
    <div className="tml-JobDetail" data-job-id={id}>
      <div className="tml-JobDetail-nav">
        <ToolbarButtonComponent
          className="tml-JobDetail-back"
          icon={caretLeftIcon}
          label="Jobs"
          tooltip="Back to my jobs (Escape)"
          onClick={props.onBack}
        />
      </div>
      <div className="tml-JobDetail-head">
        <h2 className="tml-JobDetail-title" title={job?.name ?? id}>
          {job?.name || `Job ${id}`}
        </h2>
        <span className="tml-JobDetail-sub">
          {state && <StateBadge state={state} />}
          <span className="tml-muted">job {id}</span>
        </span>
      </div>
      {error && !job && (
        <div className="tml-Banner tml-Banner--error" role="alert">
          <strong>Could not load job {id}</strong>
          <p>{error.message}</p>
        </div>
      )}
      {!job && !error && <p className="tml-muted">Loading job {id}…</p>}
      {job && (
        <>
          {pendingText(job) && <p className="tml-JobDetail-pending">{pendingText(job)}</p>}
          {active && (
            <button
              className="tml-Button tml-Button--danger tml-JobDetail-cancel"
              onClick={() => void cancel()}
              disabled={cancelling}
            >
              {cancelling ? 'Cancelling…' : 'Cancel job'}
            </button>
          )}
          <JobFacts job={job} detail={detail} />
          {added(-Infinity, JobDetailRank.logs, job)}
          <section className="tml-JobSection">
            <div className="tml-LogTabs" role="tablist" aria-label="Log stream">
              {(['stdout', 'stderr'] as LogStream[]).map(s => (
                <button
                  key={s}
                  role="tab"
                  aria-selected={stream === s}
                  className={`tml-LogTab${stream === s ? ' tml-mod-active' : ''}`}
                  data-stream={s}
                  onClick={() => setStream(s)}
                >
                  {s}
                </button>
              ))}
              {active && (
                <span className="tml-LogTabs-live" title="New lines appear as the job writes them">
                  ● live
                </span>
              )}
            </div>
            <LogPane key={stream} id={id} stream={stream} active={active} pending={stateFamily(state) === 'pending'} />
          </section>
          {added(JobDetailRank.logs, JobDetailRank.efficiency, job)}
          {detail?.efficiency && <Efficiency efficiency={detail.efficiency} />}
          {added(JobDetailRank.efficiency, JobDetailRank.script, job)}
          {detail?.script && (
            <section className="tml-JobSection">
              <div className="tml-JobSection-head">
                <h3>Batch script</h3>
                <ToolbarButtonComponent
                  icon={copyIcon}
                  tooltip="Copy the batch script"
                  onClick={() => actions.copy(detail.script ?? '')}
                />
              </div>
              <pre className="tml-JobScript">{detail.script}</pre>
            </section>
          )}
          {detail && !detail.script && !detail.tracked && (
            <p className="tml-muted tml-small">
              This job was not submitted through tritonml-lab; Slurm shares no script or logs of it.
            </p>
          )}
          {added(JobDetailRank.script, Infinity, job)}
        </>
      )}
    </div>
  );
}

function LogPane(props: { id: string; stream: LogStream; active: boolean; pending: boolean }): JSX.Element {
  const follower = useLogFollower(props.id, props.stream, props.active);
  const text = follower.text;
  let empty: string | null = null;
  if (!text) {
    empty = !follower.loaded
      ? 'Reading the log…'
      : props.pending
        ? 'The log appears when the job starts.'
        : follower.missing
          ? `No ${props.stream} file (yet).`
          : `Nothing on ${props.stream}${props.active ? ' yet' : ''}.`;
  }
  return (
    <div className="tml-LogPane" data-stream={props.stream}>
      {follower.error && <p className="tml-LogPane-error">{follower.error.message}</p>}
      {follower.truncated && <p className="tml-muted tml-small">Showing the end of the log.</p>}
      {empty ? (
        <p className="tml-muted tml-LogPane-empty">{empty}</p>
      ) : (
        <FollowingPre className="tml-Log" text={text} label={`${props.stream} of job ${props.id}`} />
      )}
    </div>
  );
}

function JobFacts({ job, detail }: { job: TritonAPI.IJob; detail: TritonAPI.IJobDetail | null }): JSX.Element {
  const when = (epoch: number | null) => (epoch ? formatWhen(epoch) : null);
  const elapsed = elapsedSeconds(job);
  const rows: [string, React.ReactNode][] = [];
  const add = (label: string, value: React.ReactNode | null | undefined | false) => {
    if (value !== null && value !== undefined && value !== false && value !== '') {
      rows.push([label, value]);
    }
  };
  add('Partition', job.partition);
  add(job.node_count && job.node_count > 1 ? `Nodes (${job.node_count})` : 'Node', job.nodes);
  add('GPUs', formatGpus(job.gpus));
  add('CPUs', job.cpus);
  add(
    'Time',
    (elapsed !== null || job.time_limit !== null) &&
      `${elapsed !== null ? formatDuration(elapsed) : '–'} of ${formatTimeLimit(job.time_limit)}`
  );
  add('Submitted', when(job.submitted));
  add('Started', when(job.started));
  add('Ended', when(job.ended));
  add('Exit code', !isActive(job.state) && formatExit(job));
  add('Directory', detail?.directory ?? job.directory);
  return (
    <dl className="tml-JobFacts">
      {rows.map(([label, value]) => (
        <React.Fragment key={label}>
          <dt>{label}</dt>
          <dd title={typeof value === 'string' ? value : undefined}>{value}</dd>
        </React.Fragment>
      ))}
    </dl>
  );
}

function Meter({ fraction, warn }: { fraction: number | null; warn?: boolean }): JSX.Element | null {
  if (fraction === null || !isFinite(fraction)) {
    return null;
  }
  const width = Math.max(0, Math.min(1, fraction)) * 100;
  return (
    <span className={`tml-Meter${warn ? ' tml-Meter--warn' : ''}`} aria-hidden="true">
      <span className="tml-Meter-fill" style={{ width: `${width}%` }} />
    </span>
  );
}

function Efficiency({ efficiency: e }: { efficiency: TritonAPI.IEfficiency }): JSX.Element {
  return (
    <section className="tml-JobSection tml-Efficiency">
      <h3>Efficiency{!e.complete && <span className="tml-muted tml-small"> (Slurm is still collecting)</span>}</h3>
      <div className="tml-Efficiency-row" data-figure="cpu">
        <span className="tml-Efficiency-label">CPU efficiency</span>
        <span className="tml-Efficiency-value">{formatPercent(e.cpu_efficiency)}</span>
        <Meter fraction={e.cpu_efficiency} warn={e.cpu_efficiency !== null && e.cpu_efficiency < 0.5} />
        <span className="tml-Efficiency-note">
          {e.cpu_used_seconds !== null && e.cpu_allocated_seconds !== null
            ? `${formatDuration(e.cpu_used_seconds)} used of ${formatDuration(e.cpu_allocated_seconds)} on ${e.cpus ?? '?'} CPU${e.cpus === 1 ? '' : 's'}`
            : ''}
        </span>
      </div>
      <div className="tml-Efficiency-row" data-figure="memory">
        <span className="tml-Efficiency-label">Memory peak</span>
        <span className="tml-Efficiency-value">{formatPercent(e.memory_fraction)}</span>
        <Meter fraction={e.memory_fraction} warn={e.memory_fraction !== null && e.memory_fraction > 0.9} />
        <span className="tml-Efficiency-note">
          {e.memory_peak_bytes !== null
            ? `${formatBytes(e.memory_peak_bytes)} of ${formatBytes(e.memory_requested_bytes)} requested`
            : `not measured (too short?) · ${formatBytes(e.memory_requested_bytes)} requested`}
        </span>
      </div>
      <div className="tml-Efficiency-row" data-figure="time">
        <span className="tml-Efficiency-label">Time used</span>
        <span className="tml-Efficiency-value">{formatPercent(e.time_fraction)}</span>
        <Meter fraction={e.time_fraction} warn={e.time_fraction !== null && e.time_fraction > 0.9} />
        <span className="tml-Efficiency-note">
          {formatDuration(e.elapsed_seconds)} of{' '}
          {e.time_limit_seconds !== null ? formatDuration(e.time_limit_seconds) : 'no limit'}
        </span>
      </div>
      {e.cpu_efficiency !== null && e.cpu_efficiency < 0.5 && (e.cpus ?? 1) > 1 && (
        <p className="tml-muted tml-small">
          Most of the CPUs sat idle: ask for fewer next time, and the job may start sooner.
        </p>
      )}
    </section>
  );
}

/** "3", "143 (SIGTERM)", or "SIGTERM" alone when a signal ended the job without an exit code. */
function formatExit(job: { exit_code: number | null; signal: number | null; signal_name?: string | null }): string {
  const signal = job.signal_name ?? (job.signal ? `signal ${job.signal}` : null);
  if (job.exit_code === null) {
    return signal ?? '';
  }
  return signal ? `${job.exit_code} (${signal})` : `${job.exit_code}`;
}
