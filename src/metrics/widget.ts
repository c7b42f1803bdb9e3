/**
 * The compact resources strip of the notebook job widget: utilisation and memory (or CPU and RAM
 * without GPUs) as small charts while the job runs and after, then the summary and the advice.
 */
import { JobsClient, TritonAPI } from '../api';
import { isFinal, stateFamily } from '../jobs/format';
import { MetricsCharts } from './chart';
import { hasSamples } from './series';
import { IMetricsStream } from './stream';
import { renderSummary, summaryRows } from './summary';
import { MetricsWatcher } from './watcher';

export class JobMetricsStrip {
  readonly node: HTMLDivElement;

  constructor() {
    this.node = document.createElement('div');
    this.node.className = 'tml-JobWidget-metrics';
    this.node.hidden = true;
    this._charts = new MetricsCharts({ compact: true });
    this.node.appendChild(this._charts.node);
    this._summary = document.createElement('div');
    this._summary.className = 'tml-MetricsSummary tml-MetricsSummary--compact';
    this.node.appendChild(this._summary);
  }

  /** Follow job `id` (from its first sample) with `watcher`; cheap to call on every refresh. */
  update(id: string, job: TritonAPI.IJob | null, watcher: MetricsWatcher | null): void {
    if (this._disposed) {
      return;
    }
    const started = !!id && !!job && !!watcher && stateFamily(job.state) !== 'pending';
    if (!started || this._stream?.id !== id) {
      this._stream?.dispose();
      this._stream = null;
      this._detail = null;
      this._asked = false;
    }
    if (started && !this._stream) {
      this._stream = watcher!.watch(id);
      this._stream.changed.connect(this._onData, this);
      this._onData();
    }
    // After the end: the summary and advice, once (sacct may need a moment: ask again once).
    if (started && isFinal(job!.state) && !this._asked) {
      this._asked = true;
      const ask = (again: boolean) =>
        JobsClient.get(id)
          .then(detail => {
            if (this._stream?.id !== id) {
              return;
            }
            this._detail = detail;
            this._show();
            if (again && !detail.efficiency?.complete) {
              this._retry = setTimeout(() => void ask(false), 8000);
            }
          })
          .catch(() => undefined);
      void ask(true);
    }
    this._show();
  }

  dispose(): void {
    this._disposed = true;
    this._stream?.dispose();
    this._stream = null;
    if (this._retry) {
      clearTimeout(this._retry);
    }
    this._charts.dispose();
    this.node.remove();
  }

  private _onData(): void {
    if (this._stream) {
      this._charts.setData(this._stream.nodes);
    }
    this._show();
  }

  private _show(): void {
    const samples = !!this._stream && hasSamples(this._stream.nodes);
    const rows = this._detail ? summaryRows(this._detail, { slurm: true }) : [];
    const advice = this._detail?.advice ?? [];
    const key = JSON.stringify([rows, advice]);
    if (key !== this._summaryKey) {
      this._summaryKey = key;
      renderSummary(this._summary, rows, advice);
    }
    this._summary.hidden = rows.length === 0 && advice.length === 0;
    this.node.hidden = !samples && this._summary.hidden;
    this.node.dataset.samples = String(samples);
  }

  private _charts: MetricsCharts;
  private _summary: HTMLDivElement;
  private _summaryKey = '';
  private _stream: IMetricsStream | null = null;
  private _detail: TritonAPI.IJobDetail | null = null;
  private _asked = false;
  private _retry: ReturnType<typeof setTimeout> | null = null;
  private _disposed = false;
}
