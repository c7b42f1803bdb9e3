/**
 * The small per-step curve in a row of the sweep's results table (SVG, on the sweep's shared scale;
 * colours from the theme, so light and dark both read). A pruned task's line is dashed and ends in a
 * cross where it was stopped; the best task's is in the success colour.
 */
import * as React from 'react';

import { TritonAPI } from '../api';
import { ICurveDomain, prunedOf, sparkline } from './curve';

export const SPARK_WIDTH = 96;
export const SPARK_HEIGHT = 24;

export function Sparkline(props: {
  task: TritonAPI.ISweepTask;
  metric: string | null;
  domain: ICurveDomain | null;
  best: boolean;
}): JSX.Element | null {
  const line = sparkline(props.task, props.metric, props.domain, SPARK_WIDTH, SPARK_HEIGHT);
  if (!line) {
    return null;
  }
  const pruned = prunedOf(props.task);
  const kind = pruned ? 'pruned' : props.best ? 'best' : 'plain';
  const label = pruned ? `${line.label}; pruned at step ${pruned.step}` : line.label;
  return (
    <svg
      className={`tml-Sparkline tml-Sparkline--${kind}`}
      width={SPARK_WIDTH}
      height={SPARK_HEIGHT}
      viewBox={`0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`}
      role="img"
      aria-label={label}
      data-points={props.task.curve?.steps.length ?? 0}
    >
      <title>{label}</title>
      {line.path && <path className="tml-Sparkline-line" d={line.path} />}
      {line.end &&
        (pruned ? (
          <path
            className="tml-Sparkline-stop"
            d={`M${line.end.x - 3} ${line.end.y - 3}l6 6M${line.end.x - 3} ${line.end.y + 3}l6 -6`}
          />
        ) : (
          <circle className="tml-Sparkline-end" cx={line.end.x} cy={line.end.y} r={1.8} />
        ))}
    </svg>
  );
}
