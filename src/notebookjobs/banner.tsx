/**
 * The banner a notebook shows while it runs as a batch job: "Running as job 123 on gpu1 — cell 3 of
 * 12", in the notebook panel's content header. It follows the tab's JobsModel (where and whether
 * the job runs) and the shared progress store (which cell), which polls only while this banner is
 * on screen; it hides itself when no run of this notebook is queued or running.
 */
import { NotebookPanel } from '@jupyterlab/notebook';
import { ReactWidget } from '@jupyterlab/ui-components';
import { IDisposable } from '@lumino/disposable';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { TritonAPI } from '../api';
import { StateBadge } from '../jobs/components';
import { isActive } from '../jobs/format';
import { JobsModel } from '../jobs/model';
import { ProgressBar } from './progress';
import { NotebookProgressStore } from './store';
import { bannerText, cellFraction, isNotebookJob, normalizePath } from './text';

/** The queued or running notebook runs of `path`, newest first. */
export function activeRunsOf(model: JobsModel, path: string): TritonAPI.IJob[] {
  const target = normalizePath(path);
  return [...model.jobs.values()]
    .filter(job => isNotebookJob(job) && isActive(job.state) && normalizePath(job.origin?.notebook) === target)
    .sort((a, b) => Number(b.id.split('_')[0]) - Number(a.id.split('_')[0]) || b.id.localeCompare(a.id));
}

export class NotebookJobBanner extends ReactWidget {
  constructor(
    private readonly _panel: NotebookPanel,
    private readonly _model: JobsModel,
    private readonly _store: NotebookProgressStore,
    private readonly _showJob: (id: string) => void
  ) {
    super();
    this.addClass('tml-NotebookJobBanner');
    this.node.setAttribute('role', 'status');
    this.hide();
    _model.changed.connect(this._sync, this);
    _store.changed.connect((_, id) => {
      if (id === this._job?.id) {
        this.update();
      }
    }, this);
    _panel.context.pathChanged.connect(this._sync, this);
    this._sync();
  }

  /** The run shown, or null. */
  get job(): TritonAPI.IJob | null {
    return this._job;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._watch?.dispose();
    this._watch = null;
    super.dispose();
  }

  render(): JSX.Element | null {
    const job = this._job;
    if (!job) {
      return null;
    }
    const status = this._store.get(job.id);
    const current = status && status.id === job.id ? status : null;
    const others = this._count - 1;
    return (
      <div className="tml-NotebookJobBanner-body" data-job-id={job.id} data-state={job.state}>
        <StateBadge state={job.state} />
        <span className="tml-NotebookJobBanner-text">{bannerText(job, current)}</span>
        {others > 0 && <span className="tml-muted tml-small">+{others} more</span>}
        <ProgressBar fraction={cellFraction(current)} />
        <button
          className="tml-NotebookJobBanner-show"
          onClick={() => this._showJob(job.id)}
          title="Open this job's detail (live output, logs, Cancel) in the jobs sidebar"
        >
          Details
        </button>
      </div>
    );
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Back on screen: the store's poll notices by itself; ask at once rather than at the next tick.
    if (this._job) {
      void this._store.refresh(this._job.id);
    }
  }

  private _sync(): void {
    if (this.isDisposed) {
      return;
    }
    const runs = activeRunsOf(this._model, this._panel.context.path);
    const job = runs[0] ?? null;
    this._count = runs.length;
    if (job?.id !== this._job?.id) {
      this._watch?.dispose();
      this._watch = job
        ? this._store.watch(job.id, () => this.isVisible && this._panel.isVisible && !document.hidden)
        : null;
    }
    this._job = job;
    this.setHidden(!job);
    this.update();
  }

  private _job: TritonAPI.IJob | null = null;
  private _count = 0;
  private _watch: IDisposable | null = null;
}
