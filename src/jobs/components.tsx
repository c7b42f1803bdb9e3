/** Small React pieces shared by the jobs list and the detail view. */
import * as React from 'react';

import { TritonAPI } from '../api';
import {
  elapsedSeconds,
  formatDuration,
  formatExpectedStart,
  formatGpus,
  formatReason,
  stateFamily,
  stateLabel
} from './format';
import { LogFollower } from './logfollow';

export function StateBadge({ state }: { state: string | null | undefined }): JSX.Element {
  const family = stateFamily(state);
  return (
    <span className={`tml-StateBadge tml-StateBadge--${family}`} data-state={state ?? ''} title={state ?? ''}>
      {stateLabel(state)}
    </span>
  );
}

/** "waiting for resources · starts in ~5 min (14:05)" for a pending job; null otherwise. */
export function pendingText(job: TritonAPI.IJob, now?: number): string | null {
  if (stateFamily(job.state) !== 'pending') {
    return null;
  }
  const reason = formatReason(job.reason);
  const start = formatExpectedStart(job.expected_start, now);
  return [reason, start && `starts ${start}`].filter(Boolean).join(' · ') || null;
}

/** "gpu1 · 1× h100 · 2m 05s" (node, GPUs, elapsed) for one line of a list row. */
export function metaParts(job: TritonAPI.IJob, now?: number): string[] {
  const parts: string[] = [];
  if (job.partition) {
    parts.push(job.partition);
  }
  if (job.nodes && stateFamily(job.state) !== 'pending') {
    parts.push(job.nodes);
  }
  const gpus = formatGpus(job.gpus);
  if (gpus) {
    parts.push(gpus);
  }
  const elapsed = elapsedSeconds(job, now);
  if (elapsed !== null && stateFamily(job.state) !== 'pending') {
    parts.push(formatDuration(elapsed));
  }
  if (job.directory_error) {
    parts.push(job.directory_error); // "directory not answering": the rest of the row is Slurm's
  }
  return parts;
}

/** Re-render once a second while `on` (elapsed times of running jobs count on). */
export function useTicker(on: boolean): number {
  const [tick, setTick] = React.useState(0);
  React.useEffect(() => {
    if (!on) {
      return;
    }
    const timer = setInterval(() => setTick(t => t + 1), 1000);
    return () => clearInterval(timer);
  }, [on]);
  return tick;
}

/**
 * A LogFollower for (jobId, stream) that lives as long as the component, follows while `active`
 * and makes one final read when `active` turns false. Re-renders on new text.
 */
export function useLogFollower(jobId: string, stream: 'stdout' | 'stderr', active: boolean): LogFollower {
  const follower = React.useMemo(() => new LogFollower({ jobId, stream }), [jobId, stream]);
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const onChange = () => setVersion(v => v + 1);
    follower.changed.connect(onChange);
    return () => {
      follower.changed.disconnect(onChange);
      follower.dispose();
    };
  }, [follower]);
  React.useEffect(() => {
    follower.setActive(active);
  }, [follower, active]);
  return follower;
}

/** A <pre> that stays scrolled to the bottom while the user has not scrolled up. */
export function FollowingPre(props: { text: string; className?: string; label: string }): JSX.Element {
  const ref = React.useRef<HTMLPreElement>(null);
  const stick = React.useRef(true);
  React.useLayoutEffect(() => {
    const node = ref.current;
    if (node && stick.current) {
      node.scrollTop = node.scrollHeight;
    }
  }, [props.text]);
  return (
    <pre
      ref={ref}
      className={props.className}
      aria-label={props.label}
      tabIndex={0}
      onScroll={event => {
        const node = event.currentTarget;
        stick.current = node.scrollHeight - node.scrollTop - node.clientHeight < 24;
      }}
    >
      {props.text}
    </pre>
  );
}
