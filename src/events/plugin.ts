/** The tab's one push channel, shared by the features that listen on it (jobs, metrics). */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { EventsChannel } from './channel';
import { IEventsChannel } from './tokens';

export const eventsPlugin: JupyterFrontEndPlugin<EventsChannel> = {
  id: 'tritonml-lab:events',
  description: 'The server push channel (jobs, metrics): one WebSocket per tab, reconnected after drops.',
  autoStart: true,
  provides: IEventsChannel,
  // Not connected here: the jobs model opens it once it listens, so that the snapshot sent on
  // connect cannot arrive before anyone hears it.
  activate: (): EventsChannel => new EventsChannel({ auto: false })
};
