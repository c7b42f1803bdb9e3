/**
 * The "Resources" section of the job detail (added by the metrics plugin): live charts of the job's
 * samples (running or finished), the GPU figures of the after-the-job summary, and the plain advice.
 */
import * as React from 'react';

import { stateFamily } from '../jobs/format';
import { IJobSectionProps } from '../jobs/tokens';
import { MetricsCharts } from './chart';
import { hasSamples } from './series';
import { IMetricsStream } from './stream';
import { ISummaryRow, summaryRows } from './summary';
import { MetricsWatcher } from './watcher';

/** Watch job `id`'s metrics while `enabled`; the stream (or null) and a counter of its changes. */
export function useMetricsStream(watcher: MetricsWatcher, id: string, enabled: boolean): IMetricsStream | null {
  const [stream, setStream] = React.useState<IMetricsStream | null>(null);
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    if (!enabled) {
      return;
    }
    const watched = watcher.watch(id);
    const bump = () => setVersion(v => v + 1);
    watched.changed.connect(bump);
    setStream(watched);
    return () => {
      watched.dispose();
      setStream(null);
    };
  }, [watcher, id, enabled]);
  return stream;
}

/** A MetricsCharts in React; redraws itself when the stream changes. */
export function MetricsChartsView(props: { stream: IMetricsStream | null; compact?: boolean }): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const charts = React.useRef<MetricsCharts | null>(null);
  React.useEffect(() => {
    const c = (charts.current = new MetricsCharts({ compact: props.compact }));
    host.current?.appendChild(c.node);
    return () => {
      c.dispose();
      charts.current = null;
    };
  }, [props.compact]);
  React.useEffect(() => {
    const stream = props.stream;
    if (!stream) {
      return;
    }
    const update = () => charts.current?.setData(stream.nodes);
    update();
    stream.changed.connect(update);
    return () => {
      stream.changed.disconnect(update);
    };
  }, [props.stream, props.compact]);
  return <div className="tml-MetricsHost" ref={host} />;
}

function Row({ row }: { row: ISummaryRow }): JSX.Element {
  const width = Math.max(0, Math.min(1, row.fraction ?? 0)) * 100;
  return (
    <div className="tml-MetricsSummary-row" data-figure={row.key}>
      <span className="tml-MetricsSummary-label">{row.label}</span>
      <span className="tml-MetricsSummary-value">{row.value}</span>
      <span
        className={`tml-Meter${row.warn ? ' tml-Meter--warn' : ''}`}
        aria-hidden="true"
        hidden={row.fraction === null}
      >
        <span className="tml-Meter-fill" style={{ width: `${width}%` }} />
      </span>
      <span className="tml-MetricsSummary-note">{row.note}</span>
    </div>
  );
}

export function JobMetrics(props: IJobSectionProps & { watcher: MetricsWatcher }): JSX.Element | null {
  const family = stateFamily(props.job.state);
  // Jobs not submitted through tritonml-lab run no sampler.
  const started = family !== 'pending' && props.job.tracked !== false;
  const stream = useMetricsStream(props.watcher, props.job.id, started);
  if (!started) {
    return null;
  }
  const running = family === 'running';
  const samples = !!stream && hasSamples(stream.nodes);
  // The Efficiency section next to this one shows Slurm's CPU, memory and time figures.
  const rows = running ? [] : summaryRows(props.detail, { slurm: !props.detail?.efficiency });
  const advice = running ? [] : (props.detail?.advice ?? []);
  const empty = !samples && rows.length === 0 && advice.length === 0;
  return (
    <section className="tml-JobSection tml-JobMetrics" hidden={empty && !running} data-samples={String(samples)}>
      <h3>
        Resources
        {running && samples && (
          <span className="tml-LogTabs-live" title="New points arrive every second">
            {' '}
            ● live
          </span>
        )}
      </h3>
      {running && !samples && (
        <p className="tml-muted tml-small">
          {stream?.error ? `Cannot read the samples: ${stream.error}` : 'Waiting for the first samples…'}
        </p>
      )}
      <MetricsChartsView stream={stream} />
      {rows.length > 0 && (
        <div className="tml-MetricsSummary">
          {rows.map(row => (
            <Row key={row.key} row={row} />
          ))}
        </div>
      )}
      {advice.length > 0 && (
        <ul className="tml-MetricsAdvice">
          {advice.map((sentence, i) => (
            <li key={i}>{sentence}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
