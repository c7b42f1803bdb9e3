/**
 * The "Right-sizing" section of a finished job's detail: each resource the job asked for, what to ask
 * for next time and why (GET jobs/{id}/suggestion), and "Resubmit with these settings".
 */
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import { AdviceClient, APIError, TritonAPI } from '../api';
import { stateFamily } from '../jobs/format';
import { IJobSectionProps } from '../jobs/tokens';
import { resubmitRoute } from './format';
import { resubmit } from './resubmit';

const LABELS: { [field: string]: string } = {
  gpus: 'GPUs',
  cpus_per_task: 'CPUs per task',
  mem: 'Memory',
  time: 'Time limit'
};
const PARTS = ['gpus', 'cpus_per_task', 'mem', 'time'] as const;

/** The job's suggestion once it ended (again when its detail changes: sacct may come later). */
export function useSuggestion(id: string, ready: boolean, version: unknown): [TritonAPI.ISuggestion | null, string] {
  const [suggestion, setSuggestion] = React.useState<TritonAPI.ISuggestion | null>(null);
  const [error, setError] = React.useState('');
  React.useEffect(() => {
    if (!ready) {
      return;
    }
    let cancelled = false;
    AdviceClient.suggestion(id)
      .then(answer => {
        if (!cancelled) {
          setSuggestion(answer);
          setError('');
        }
      })
      .catch(reason => {
        if (!cancelled) {
          setError(reason instanceof APIError ? reason.message : String(reason));
        }
      });
    return () => {
      cancelled = true;
    };
  }, [id, ready, version]);
  return [suggestion, error];
}

export function RightSizing(props: IJobSectionProps & { commands: CommandRegistry }): JSX.Element | null {
  const { job, detail, commands } = props;
  const finished = !['pending', 'running'].includes(stateFamily(job.state));
  const ready = finished && job.tracked !== false && detail !== null;
  const [suggestion, error] = useSuggestion(job.id, ready, detail?.efficiency?.complete);
  const [busy, setBusy] = React.useState(false);
  if (!ready || (!suggestion && !error)) {
    return null;
  }
  const parts = suggestion ? PARTS.map(p => suggestion[p]).filter((c): c is TritonAPI.ISuggestionChange => !!c) : [];
  const route = resubmitRoute(job, suggestion);
  const changed = (suggestion?.changes.length ?? 0) > 0;
  return (
    <section className="tml-JobSection tml-RightSizing" data-changes={suggestion?.changes.length ?? 0}>
      <h3>Right-sizing</h3>
      {error && <p className="tml-error tml-small">Cannot suggest resources: {error}</p>}
      {suggestion?.note && <p className="tml-muted tml-small">{suggestion.note}</p>}
      {parts.length > 0 && (
        <ul className="tml-RightSizing-list">
          {parts.map(c => (
            <li key={c.field} data-field={c.field} className={c.changed ? 'tml-mod-suggested' : ''}>
              <div className="tml-RightSizing-head">
                <span className="tml-RightSizing-label">{LABELS[c.field] ?? c.field}</span>{' '}
                {c.changed ? (
                  <span className="tml-RightSizing-values">
                    <s>{c.from ?? 'default'}</s> → <strong>{c.to}</strong>
                  </span>
                ) : (
                  <span className="tml-RightSizing-values">{c.to ?? 'default'}</span>
                )}
              </div>
              <div className="tml-RightSizing-reason tml-small">
                {c.reason}
                {c.figure && <span className="tml-muted"> ({c.figure})</span>}
              </div>
            </li>
          ))}
        </ul>
      )}
      {suggestion && route !== 'none' && (
        <button
          type="button"
          className={`jp-Button jp-mod-styled ${changed ? 'jp-mod-accept' : 'jp-mod-reject'} tml-RightSizing-resubmit`}
          disabled={busy}
          title={
            route === 'dialog'
              ? 'Open the New job dialog with these settings (the changed fields highlighted)'
              : route === 'notebook'
                ? 'Open Run on GPU for this notebook'
                : route === 'magic'
                  ? 'Show the %tritonml resubmit line to run in its notebook'
                  : "Show the sweep cell's options to change"
          }
          onClick={() => {
            setBusy(true);
            void resubmit(commands, job, suggestion).finally(() => setBusy(false));
          }}
        >
          {changed ? 'Resubmit with these settings' : 'Resubmit'}
        </button>
      )}
    </section>
  );
}
