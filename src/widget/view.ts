/**
 * The ipywidget of a job in a notebook (`%%tritonml submit` returns one): a view of the SAME job
 * state the sidebar shows. It never polls the job list: it reads the tab's JobsModel and follows
 * the log with the same LogFollower as the detail view, only while the job is active.
 *
 * Traits set by the kernel: job_id, job_name, directory, out_vars, state, message, fetched.
 * The view writes `state` back when the job ends, so a saved notebook shows its final state.
 */
import { DOMWidgetModel, DOMWidgetView } from '@jupyter-widgets/base';

import { JobsClient, TritonAPI } from '../api';
import { nearLimit, shortDuration, timeLeft } from '../checkpoint/timeleft';
import { metaParts, pendingText } from '../jobs/components';
import { isActive, isFinal, stateFamily, stateLabel } from '../jobs/format';
import { LogFollower } from '../jobs/logfollow';
import { JobMetricsStrip } from '../metrics/widget';
import { widgetContext } from './context';

export const MODULE_NAME = 'tritonml-lab';
export const MODULE_VERSION = '0.1.0';

/** Lines of the log the widget shows. */
const TAIL_LINES = 20;

export class JobModel extends DOMWidgetModel {
  defaults(): any {
    return {
      ...super.defaults(),
      _model_name: 'JobModel',
      _view_name: 'JobView',
      _model_module: MODULE_NAME,
      _view_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_module_version: MODULE_VERSION,
      job_id: '',
      job_name: '',
      directory: '',
      out_vars: [],
      state: '',
      message: '',
      fetched: false
    };
  }

  static serializers = { ...DOMWidgetModel.serializers };
}

export class JobView extends DOMWidgetView {
  render(): void {
    this.el.classList.add('tml-JobWidget');
    this._build();
    this.listenTo(this.model, 'change', () => this._refresh());
    const context = widgetContext();
    if (context) {
      context.model.changed.connect(this._onJobs, this);
    }
    this._refresh();
    this._ticker = setInterval(() => {
      if (stateFamily(this._job()?.state) === 'running') {
        this._refresh();
      }
    }, 1000);
  }

  remove(): any {
    widgetContext()?.model.changed.disconnect(this._onJobs, this);
    if (this._ticker) {
      clearInterval(this._ticker);
    }
    this._follower?.dispose();
    this._follower = null;
    this._metrics?.dispose();
    return super.remove();
  }

  /** The job as the tab's model knows it, else the one-off answer of GET jobs/{id}. */
  private _job(): TritonAPI.IJob | null {
    const id = this.model.get('job_id') as string;
    if (!id) {
      return null;
    }
    return widgetContext()?.model.get(id) ?? this._fetched;
  }

  private _onJobs(): void {
    this._refresh();
  }

  private _build(): void {
    const el = (tag: string, className: string, parent: HTMLElement) => {
      const node = document.createElement(tag);
      node.className = className;
      parent.appendChild(node);
      return node;
    };
    const head = el('div', 'tml-JobWidget-head', this.el);
    this._badge = el('span', 'tml-StateBadge', head);
    this._name = el('span', 'tml-JobWidget-name', head);
    this._id = el('button', 'tml-JobWidget-id', head) as HTMLButtonElement;
    this._id.title = 'Show this job in the jobs sidebar';
    this._id.addEventListener('click', () => {
      const id = this.model.get('job_id');
      if (id) {
        widgetContext()?.show(id);
      }
    });
    el('span', 'tml-JobWidget-spacer', head);
    this._fetchButton = el('button', 'tml-Button tml-Button--primary tml-JobWidget-fetch', head) as HTMLButtonElement;
    this._fetchButton.textContent = 'Fetch results';
    this._fetchButton.addEventListener('click', () => this._fetch());
    this._resubmitButton = el('button', 'tml-Button tml-JobWidget-resubmit', head) as HTMLButtonElement;
    this._resubmitButton.textContent = 'Resubmit…';
    this._resubmitButton.title = 'Run it again with the resources its figures call for (each change with its reason)';
    this._resubmitButton.addEventListener('click', () => {
      const id = this.model.get('job_id');
      if (id) {
        widgetContext()?.resubmit?.(id);
      }
    });
    this._cancelButton = el('button', 'tml-Button tml-Button--danger tml-JobWidget-cancel', head) as HTMLButtonElement;
    this._cancelButton.textContent = 'Cancel';
    this._cancelButton.addEventListener('click', () => void this._cancel());
    this._meta = el('div', 'tml-JobWidget-meta', this.el);
    this._pending = el('div', 'tml-JobWidget-pending', this.el);
    this._message = el('div', 'tml-JobWidget-message', this.el);
    this._log = el('pre', 'tml-JobWidget-log', this.el) as HTMLPreElement;
    this._metrics = new JobMetricsStrip();
    this.el.appendChild(this._metrics.node);
  }

  private _refresh(): void {
    const id = this.model.get('job_id') as string;
    const context = widgetContext();
    let job = this._job();
    // Not listed (an old job, or another server): ask once, never poll.
    if (id && !job && context?.model.loaded && !this._askedOnce) {
      this._askedOnce = true;
      JobsClient.get(id)
        .then(detail => {
          this._fetched = detail;
          this._refresh();
        })
        .catch(() => undefined);
    }
    job = this._job();
    const state = job?.state ?? ((this.model.get('state') as string) || (id ? 'PENDING' : ''));
    const family = stateFamily(state);

    this.el.dataset.state = state;
    this.el.dataset.jobId = id;
    this._badge.className = `tml-StateBadge tml-StateBadge--${family}`;
    this._badge.textContent = id ? stateLabel(state) : 'not submitted';
    this._badge.dataset.state = state;
    this._name.textContent = (this.model.get('job_name') as string) || job?.name || '';
    this._id.textContent = id ? `job ${id}` : '';
    this._id.hidden = !id;

    const meta = job ? metaParts(job) : [];
    this._meta.textContent = meta.join(' · ');
    // Time left before the limit, a warning badge in its last 10 % (src/checkpoint).
    const left = job ? timeLeft(job) : null;
    if (left !== null && job) {
      const badge = document.createElement('span');
      const near = nearLimit(job);
      badge.className = `tml-Badge tml-TimeLeft${near ? ' tml-Badge--warn tml-TimeLeft--warn' : ''}`;
      badge.dataset.warn = near ? 'true' : 'false';
      badge.textContent = `${shortDuration(left)} left`;
      this._meta.appendChild(badge);
    }
    this._meta.hidden = meta.length === 0 && left === null;
    const pending = job ? pendingText(job) : null;
    this._pending.textContent = pending ?? '';
    this._pending.hidden = !pending;
    const message = (this.model.get('message') as string) || '';
    this._message.textContent = message;
    this._message.hidden = !message;
    this.el.classList.toggle('tml-mod-fetched', !!this.model.get('fetched'));

    const active = !!job && isActive(state);
    this._cancelButton.hidden = !active;
    this._resubmitButton.hidden = !job || !isFinal(job.state) || !context?.resubmit;
    const outVars = (this.model.get('out_vars') as string[]) ?? [];
    this._fetchButton.hidden = !(outVars.length > 0 && state === 'COMPLETED');
    this._fetchButton.textContent = this.model.get('fetched') ? 'Fetch again' : `Fetch ${outVars.join(', ')}`;
    this._fetchButton.title = `Load ${outVars.join(', ')} from the job into the notebook`;

    // The log: follow while active, one final read when it ends (and once for a finished job).
    if (id && job && family !== 'pending') {
      if (!this._follower || this._follower.jobId !== id) {
        this._follower?.dispose();
        this._follower = new LogFollower({ jobId: id, stream: 'stdout', maxChars: 32 * 1024, tailBytes: 16 * 1024 });
        this._follower.changed.connect(() => this._showLog(), this);
      }
      this._follower.setActive(active);
    }
    this._showLog();
    this._metrics.update(id, job, context?.metrics ?? null);

    // A reopened notebook should show how it ended, not "pending": keep the final state in the model.
    if (job && isFinal(job.state) && this.model.get('state') !== job.state) {
      this.model.set('state', job.state);
      this.touch();
    }
  }

  private _showLog(): void {
    const tail = this._follower?.tail(TAIL_LINES) ?? '';
    this._log.textContent = tail;
    this._log.hidden = !tail;
  }

  private async _cancel(): Promise<void> {
    const job = this._job();
    const context = widgetContext();
    if (!job || !context) {
      return;
    }
    this._cancelButton.disabled = true;
    try {
      await context.cancel(job);
    } finally {
      this._cancelButton.disabled = false;
    }
  }

  private _fetch(): void {
    this.send({ action: 'fetch' });
    this._message.textContent = 'Fetching…';
    this._message.hidden = false;
  }

  private _badge!: HTMLElement;
  private _name!: HTMLElement;
  private _id!: HTMLButtonElement;
  private _meta!: HTMLElement;
  private _pending!: HTMLElement;
  private _message!: HTMLElement;
  private _log!: HTMLPreElement;
  private _cancelButton!: HTMLButtonElement;
  private _fetchButton!: HTMLButtonElement;
  private _resubmitButton!: HTMLButtonElement;
  private _follower: LogFollower | null = null;
  private _fetched: TritonAPI.IJob | null = null;
  private _askedOnce = false;
  private _ticker: ReturnType<typeof setInterval> | null = null;
  private _metrics!: JobMetricsStrip;
}
