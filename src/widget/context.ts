/**
 * What the notebook widget's views need from the rest of the extension. The widget manager creates
 * the views, not us, so the plugin sets this once when it registers the widget module.
 */
import { TritonAPI } from '../api';
import { JobsModel } from '../jobs/model';
import { MetricsWatcher } from '../metrics/watcher';

export interface IWidgetContext {
  /** The tab's one jobs model (the same one the sidebar shows). */
  model: JobsModel;
  /** The tab's metrics watcher; null without the metrics plugin (no charts then). */
  metrics: MetricsWatcher | null;
  /** Ask, then cancel (`DELETE jobs/{id}`). */
  cancel(job: Pick<TritonAPI.IJob, 'id' | 'name'> & { state?: string }): Promise<boolean>;
  /** Open the job's detail in the sidebar. */
  show(id: string): void;
  /** "Resubmit with these settings" (the advice feature's command), where it is installed. */
  resubmit?(id: string): void;
}

let current: IWidgetContext | null = null;

export function setWidgetContext(context: IWidgetContext): void {
  current = context;
}

export function widgetContext(): IWidgetContext | null {
  return current;
}
