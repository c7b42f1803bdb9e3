import { Token } from '@lumino/coreutils';

import type { MetricsWatcher } from './watcher';

/** The tab's one metrics watcher, for views that chart a job's samples (the notebook widget). */
export const IMetricsWatcher = new Token<MetricsWatcher>(
  'tritonml-lab:IMetricsWatcher',
  "Live GPU/CPU samples of the jobs being looked at, over the tab's push channel."
);
