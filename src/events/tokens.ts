import { Token } from '@lumino/coreutils';

import type { EventsChannel } from './channel';

/** The tab's one push channel; the jobs model and the metrics watcher listen on it. */
export const IEventsChannel = new Token<EventsChannel>(
  'tritonml-lab:IEventsChannel',
  'The server push channel (tritonml/events), one WebSocket per tab.'
);
