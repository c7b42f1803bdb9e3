/** Live metrics of a job: the sampler's compact format (tritonml_lab/injob/sampler.py), as the API sends it. */
import type { Schemas, IServerEvent } from './http';

/** The sampler's header line: what it watches and with what. */
export type IMetricsHeader = Schemas['MetricsHeader'];
/**
 * One sample: t (unix s); g per GPU [util %, memory MiB, power W, temp C, SM MHz(, util max)];
 * c CPU cores; r RSS MiB. Downsampled rows add d (bucket s), n (samples) and cx (max cores).
 */
export type IMetricsSample = Schemas['MetricsSample'];
export type IMetricsNode = Schemas['MetricsNode'];
/** GET jobs/{id}/metrics, and the "metrics-history" event. */
export type IMetrics = Schemas['Metrics'];

/** The "metrics" event: new samples of one node. */
export type IMetricsLive = Schemas['MetricsLive'];

/** Metrics messages of the push channel (after a watch-metrics action). */
export type IMetricsEvent = Extract<IServerEvent, { event: 'metrics-history' | 'metrics' | 'error' }>;
