/**
 * The ipywidget of a sweep in a notebook (`%%tritonml sweep` shows one): the sweep view, kept fresh by
 * a SweepModel fed by the tab's one JobsModel (no polling loop of its own, and none in the kernel).
 *
 * Traits set by the kernel: sweep_id, sweep_name, metric, mode, total, snapshot (the sweep at
 * submission), message. The view writes the final sweep back into `snapshot` when every task has
 * ended, so a notebook saved with its widget state shows the final table when reopened, even where
 * the server no longer knows the sweep.
 */
import { DOMWidgetModel, DOMWidgetView } from '@jupyter-widgets/base';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { TritonAPI } from '../api';
import { SweepModel as SweepState } from '../sweeps/model';
import { canOpenSweeps, openSweep } from '../sweeps/open';
import { SweepView as SweepComponent } from '../sweeps/view';
import { widgetContext } from './context';
import { MODULE_NAME, MODULE_VERSION } from './view';

/** Rows kept in the saved snapshot (the kernel keeps as many). */
const SNAPSHOT_ROWS = 200;

export class SweepWidgetModel extends DOMWidgetModel {
  defaults(): any {
    return {
      ...super.defaults(),
      _model_name: 'SweepModel',
      _view_name: 'SweepView',
      _model_module: MODULE_NAME,
      _view_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_module_version: MODULE_VERSION,
      sweep_id: '',
      sweep_name: '',
      metric: '',
      mode: 'min',
      total: 0,
      snapshot: {},
      message: ''
    };
  }

  static serializers = { ...DOMWidgetModel.serializers };
}

/** The snapshot the notebook keeps: the sweep with its first rows. */
export function snapshotOf(sweep: TritonAPI.ISweep): TritonAPI.ISweep {
  return sweep.tasks.length > SNAPSHOT_ROWS
    ? { ...sweep, tasks: sweep.tasks.slice(0, SNAPSHOT_ROWS), truncated: true }
    : sweep;
}

export class SweepWidgetView extends DOMWidgetView {
  render(): void {
    this.el.classList.add('tml-SweepWidget');
    const id = this.model.get('sweep_id') as string;
    const snapshot = this.model.get('snapshot') as TritonAPI.ISweep | Record<string, never>;
    const initial = snapshot && (snapshot as TritonAPI.ISweep).id === id ? (snapshot as TritonAPI.ISweep) : null;
    const context = widgetContext();
    this._state = new SweepState({ id, jobs: context?.model ?? null, initial, auto: !!id });
    this._state.changed.connect(this._onChange, this);
    this._react = new Content(
      () => this._state,
      () => this._savedNote(),
      () => (this.model.get('message') as string) || '',
      context ? (jobId: string) => context.show(jobId) : undefined
    );
    this.el.appendChild(this._react.node);
    this._react.update();
    this.listenTo(this.model, 'change:message', () => this._react?.update());
  }

  remove(): any {
    this._state?.changed.disconnect(this._onChange, this);
    this._state?.dispose();
    this._state = null;
    this._react?.dispose();
    this._react = null;
    return super.remove();
  }

  /** A note when the server does not know the sweep and the saved table is what shows. */
  private _savedNote(): string | undefined {
    const state = this._state;
    if (state && state.sweep && !state.loaded && state.error?.status === 404) {
      return 'This server does not know this sweep any more: showing the table saved with the notebook.';
    }
    return undefined;
  }

  private _onChange(): void {
    this._react?.update();
    const sweep = this._state?.loaded ? this._state.sweep : null;
    if (!sweep) {
      return;
    }
    this.el.dataset.finished = String(sweep.finished);
    // A reopened notebook should show how the sweep ended: keep the final table in the model.
    if (sweep.finished) {
      const next = snapshotOf(sweep);
      const previous = this.model.get('snapshot') as TritonAPI.ISweep;
      if (JSON.stringify(previous) !== JSON.stringify(next)) {
        this.model.set('snapshot', next);
        this.touch();
      }
    }
  }

  private _state: SweepState | null = null;
  private _react: ReactWidget | null = null;
}

/** The widget's React content; re-rendered whole on update() (a fresh element each time). */
class Content extends ReactWidget {
  constructor(
    private readonly _state: () => SweepState | null,
    private readonly _note: () => string | undefined,
    private readonly _message: () => string,
    private readonly _showJob: ((jobId: string) => void) | undefined
  ) {
    super();
  }

  render(): JSX.Element | null {
    const state = this._state();
    if (!state) {
      return null;
    }
    const message = this._message();
    return (
      <>
        <SweepComponent model={state} onShowJob={this._showJob} savedNote={this._note()} />
        {canOpenSweeps() && (
          <button className="tml-SweepWidget-open" onClick={() => openSweep(state.id)} title="Open this sweep in a tab">
            Open in a tab
          </button>
        )}
        {message && <p className="tml-SweepWidget-message">{message}</p>}
      </>
    );
  }
}
