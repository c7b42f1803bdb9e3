/**
 * A sweep in a main-area tab (opened from the jobs sidebar or the command palette). A tab rather than
 * the sidebar: the results table has a column per parameter and per reported value, too wide for a
 * sidebar, and a tab can sit next to the notebook that started the sweep.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { JobsModel } from '../jobs/model';
import { jobsIcon } from '../jobs/icons';
import { SweepModel } from './model';
import { SweepView } from './view';

class SweepContent extends ReactWidget {
  constructor(
    readonly model: SweepModel,
    private readonly _showJob: (id: string) => void
  ) {
    super();
    this.addClass('tml-SweepPanel');
  }

  render(): JSX.Element {
    return <SweepView model={this.model} onShowJob={this._showJob} />;
  }

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}

export function createSweepPanel(
  id: string,
  jobs: JobsModel,
  showJob: (id: string) => void
): MainAreaWidget<SweepContent> {
  const model = new SweepModel({ id, jobs });
  const content = new SweepContent(model, showJob);
  const widget = new MainAreaWidget({ content });
  widget.id = `tritonml-sweep-${id}`;
  widget.title.label = `Sweep ${id}`;
  widget.title.icon = jobsIcon;
  widget.title.closable = true;
  const retitle = () => {
    const sweep = model.sweep;
    if (sweep) {
      widget.title.label = `Sweep ${sweep.id}: ${sweep.name}`;
      widget.title.caption = `Sweep ${sweep.id} (${sweep.total} points${sweep.metric ? `, by ${sweep.metric}` : ''})`;
    }
  };
  model.changed.connect(retitle);
  return widget;
}
