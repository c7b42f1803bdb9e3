/**
 * Registers the job and sweep widgets' views (`tritonml-lab` 0.1.0: JobModel, JobView, SweepModel,
 * SweepView) with ipywidgets' registry. The registry is optional: without ipywidgets the rest of the extension still loads,
 * and the widget's classes are only loaded when a notebook shows one.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';

import { cancelWithConfirmation } from '../jobs/actions';
import { JobsModel } from '../jobs/model';
import { IJobsModel } from '../jobs/tokens';
import { IMetricsWatcher } from '../metrics/tokens';
import { MetricsWatcher } from '../metrics/watcher';
import { setWidgetContext } from './context';

export const jobWidgetPlugin: JupyterFrontEndPlugin<void> = {
  id: 'tritonml-lab:job-widget',
  description: 'The notebook view of a Slurm job (%%tritonml submit), fed by the jobs sidebar model.',
  autoStart: true,
  requires: [IJobsModel],
  optional: [IJupyterWidgetRegistry, IMetricsWatcher],
  activate: (
    app: JupyterFrontEnd,
    model: JobsModel,
    registry: IJupyterWidgetRegistry | null,
    metrics: MetricsWatcher | null
  ) => {
    if (!registry) {
      return;
    }
    setWidgetContext({
      model,
      metrics,
      cancel: job => cancelWithConfirmation(job, model),
      show: id => void app.commands.execute('tritonml:show-job', { id }),
      resubmit: id => void app.commands.execute('tritonml:resubmit-job', { id })
    });
    registry.registerWidget({
      name: 'tritonml-lab',
      version: '0.1.0',
      exports: async () => {
        const { JobModel, JobView } = await import('./view');
        const { SweepWidgetModel, SweepWidgetView } = await import('./sweepview');
        return { JobModel, JobView, SweepModel: SweepWidgetModel, SweepView: SweepWidgetView };
      }
    });
  }
};
