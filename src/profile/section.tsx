/**
 * The "Profile" section of a job's detail (jobs submitted with --profile): the top kernels or operators,
 * the share of step time waiting for data, the GPU's idle gaps, the advice that follows, and the trace
 * to download. GET jobs/{id}/profile, again while the job runs and once when it ends.
 */
import * as React from 'react';

import { APIError } from '../api';
import { IJobProfile, ProfileClient } from '../api/profile';
import { stateFamily } from '../jobs/format';
import { IJobSectionProps } from '../jobs/tokens';
import {
  DATA_WAIT_WARN,
  dataWaitLine,
  gpuLine,
  ms,
  percent,
  shortName,
  sizeText,
  stateText,
  stepsLine
} from './format';

const POLL_MS = 15000;

function useProfile(id: string, wanted: boolean, running: boolean): [IJobProfile | null, string] {
  const [profile, setProfile] = React.useState<IJobProfile | null>(null);
  const [error, setError] = React.useState('');
  React.useEffect(() => {
    if (!wanted) {
      return;
    }
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = (): void => {
      ProfileClient.get(id)
        .then(answer => {
          if (!cancelled) {
            setProfile(answer);
            setError('');
            if (running && answer.state !== 'recorded') {
              timer = setTimeout(load, POLL_MS);
            }
          }
        })
        .catch(reason => {
          if (!cancelled) {
            setError(reason instanceof APIError ? reason.message : String(reason));
          }
        });
    };
    load();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [id, wanted, running]);
  return [profile, error];
}

export function ProfileSection({ job, detail }: IJobSectionProps): JSX.Element | null {
  const mode = detail?.spec?.profile ?? null;
  const running = ['pending', 'running'].includes(stateFamily(job.state));
  const [profile, error] = useProfile(job.id, !!mode, running);
  if (!mode) {
    return null;
  }
  const s = profile?.summary ?? null;
  const waitLine = s ? dataWaitLine(s) : null;
  const gpu = s ? gpuLine(s) : null;
  const said = profile ? stateText(profile) : 'Loading…';
  return (
    <section className="tml-JobSection tml-Profile" data-state={profile?.state ?? 'loading'}>
      <h3>Profile</h3>
      {error && <p className="tml-error tml-small">Cannot read the profile: {error}</p>}
      {said && <p className="tml-muted tml-small tml-Profile-state">{said}</p>}
      {s && <p className="tml-Profile-steps">{stepsLine(s)}</p>}
      {waitLine && (
        <p
          className={`tml-Profile-datawait${(s?.data_wait_share ?? 0) >= DATA_WAIT_WARN ? ' tml-mod-warn' : ''}`}
          data-share={s?.data_wait_share}
        >
          {waitLine}
        </p>
      )}
      {gpu && <p className="tml-Profile-gpu">{gpu}</p>}
      {s && s.top.length > 0 && (
        <table className="tml-Profile-top" aria-label="Top operators">
          <thead>
            <tr>
              <th>{s.top_by === 'device' ? 'Kernel (device time)' : 'Operator (CPU self time)'}</th>
              <th>Calls</th>
              <th>Time</th>
              <th>Share</th>
            </tr>
          </thead>
          <tbody>
            {s.top.map(op => (
              <tr key={op.name}>
                <td title={op.name}>{shortName(op.name)}</td>
                <td>{op.calls}</td>
                <td>{ms(op.total_ms)}</td>
                <td>{percent(op.share)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {s?.truncated && <p className="tml-muted tml-small">The trace is large: figures from its first part.</p>}
      {profile?.summary_error && <p className="tml-error tml-small">{profile.summary_error}</p>}
      {(profile?.advice ?? []).map(text => (
        <p key={text} className="tml-Profile-advice tml-mod-warn">
          {text}
        </p>
      ))}
      {profile?.file && (
        <p className="tml-small">
          <a className="tml-Profile-download" href={ProfileClient.traceUrl(job.id)} download={profile.file.name}>
            Download the trace
          </a>{' '}
          ({profile.file.name}, {sizeText(profile.file.bytes)}
          {profile.file.kind === 'chrome-trace' ? '; open it in Perfetto or chrome://tracing' : '; open it in nsys-ui'})
        </p>
      )}
    </section>
  );
}
