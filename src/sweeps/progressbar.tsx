/**
 * The sweep's progress: one bar of task states (completed, failed, cancelled, running, pending), with
 * the count of each, and of the completed ones how many were pruned.
 */
import * as React from 'react';

import { progress } from './table';

export function ProgressBar({
  progress: p,
  pruned
}: {
  progress: ReturnType<typeof progress>;
  pruned: number;
}): JSX.Element {
  return (
    <div className="tml-SweepProgress">
      <div
        className="tml-SweepProgress-bar"
        role="progressbar"
        aria-label="Tasks ended"
        aria-valuemin={0}
        aria-valuemax={p.total}
        aria-valuenow={p.ended}
      >
        {p.families.map(({ family, count }) => (
          <span
            key={family}
            className={`tml-SweepProgress-seg tml-SweepProgress-seg--${family}`}
            style={{ width: `${(100 * count) / Math.max(1, p.total)}%` }}
            title={`${count} ${family}`}
          />
        ))}
      </div>
      <span className="tml-SweepProgress-legend">
        {p.families.map(({ family, count }) => (
          <span
            key={family}
            className={`tml-SweepProgress-count tml-SweepProgress-count--${family}`}
            data-family={family}
          >
            {count} {FAMILY_LABEL[family]}
          </span>
        ))}
        {pruned > 0 && (
          <span
            className="tml-SweepProgress-count tml-SweepProgress-count--pruned"
            data-family="pruned"
            title="Stopped early as clearly worse (counted as completed)"
          >
            ({pruned} pruned)
          </span>
        )}
      </span>
    </div>
  );
}

const FAMILY_LABEL: { [family: string]: string } = {
  done: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  running: 'running',
  pending: 'pending'
};
