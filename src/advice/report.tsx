/**
 * My efficiency report (GET my-efficiency?days=N): GPU-hours, core-hours, memory and time requested
 * against used by my finished jobs, and the three changes that would save the most. A React
 * component (the jobs panel's section) and a main-area widget (the command).
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { AdviceClient, APIError, TritonAPI } from '../api';
import { reportLines } from './format';

export function EfficiencyReport(props: { days?: number }): JSX.Element {
  const days = props.days ?? 30;
  const [report, setReport] = React.useState<TritonAPI.IUsageReport | null>(null);
  const [error, setError] = React.useState('');
  const [loading, setLoading] = React.useState(false);
  const load = React.useCallback(
    (fresh: boolean) => {
      setLoading(true);
      AdviceClient.report(days, fresh)
        .then(answer => {
          setReport(answer);
          setError('');
        })
        .catch(reason => setError(reason instanceof APIError ? reason.message : String(reason)))
        .finally(() => setLoading(false));
    },
    [days]
  );
  React.useEffect(() => load(false), [load]);
  return (
    <section className="tml-JobSection tml-EfficiencyReport" aria-busy={loading}>
      <h3>
        My efficiency, last {days} days{' '}
        <button
          type="button"
          className="jp-Button jp-mod-minimal tml-small"
          disabled={loading}
          onClick={() => load(true)}
          title="Ask Slurm's accounting again (one sacct call)"
        >
          {loading ? 'loading…' : 'refresh'}
        </button>
      </h3>
      {error && <p className="tml-error tml-small">Cannot make the report: {error}</p>}
      {report && (
        <>
          <table className="tml-EfficiencyReport-table">
            <tbody>
              {reportLines(report).map(line => (
                <tr key={line.key} data-figure={line.key}>
                  <th scope="row">{line.label}</th>
                  <td>{line.value}</td>
                  <td className="tml-muted">{line.note}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {report.top.length > 0 ? (
            <>
              <h4>The changes that would save the most</h4>
              <ol className="tml-EfficiencyReport-top">
                {report.top.map(s => (
                  <li key={`${s.name}-${s.field}`} data-field={s.field}>
                    {s.text}
                  </li>
                ))}
              </ol>
            </>
          ) : (
            <p className="tml-muted tml-small">Nothing to change: your jobs used what they asked for.</p>
          )}
        </>
      )}
    </section>
  );
}

/** The report in the main area (command tritonml:efficiency-report). */
export class EfficiencyReportWidget extends ReactWidget {
  constructor(days = 30) {
    super();
    this._days = days;
    this.id = 'tritonml-efficiency-report';
    this.title.label = 'My efficiency';
    this.title.closable = true;
    this.addClass('tml-EfficiencyReportWidget');
  }

  protected render(): JSX.Element {
    return <EfficiencyReport days={this._days} />;
  }

  private _days: number;
}

/** Under the jobs list: the report, fetched only once opened (it costs a sacct call). */
export function EfficiencyReportSection(): JSX.Element {
  const [open, setOpen] = React.useState(false);
  return (
    <details
      className="tml-EfficiencyReportSection"
      onToggle={e => setOpen((e.currentTarget as HTMLDetailsElement).open)}
    >
      <summary>My efficiency (last 30 days)</summary>
      {open && <EfficiencyReport days={30} />}
    </details>
  );
}
