import { ServerConnection } from '@jupyterlab/services';

import { ChannelState, eventsUrl, ServerEvent } from '../events/channel';
import { JobDetailSections } from '../jobs/sections';
import { JobDetailRank } from '../jobs/tokens';
import { fakeChannel, FakeSocket } from './jobs.fixture';

describe('EventsChannel', () => {
  beforeEach(() => {
    FakeSocket.all = [];
  });

  it('lives under base_url and carries the token in the query when the server wants it', () => {
    const settings = ServerConnection.makeSettings({ wsUrl: 'ws://h/base/', token: 't k', appendToken: true });
    expect(eventsUrl(settings)).toBe('ws://h/base/tritonml/events?token=t%20k');
    expect(eventsUrl({ ...settings, appendToken: false })).toBe('ws://h/base/tritonml/events');
  });

  it('passes on parsed messages, drops malformed ones, and sends only while open', () => {
    const channel = fakeChannel();
    const states: ChannelState[] = [];
    const messages: ServerEvent[] = [];
    channel.stateChanged.connect((_, state) => states.push(state));
    channel.message.connect((_, message) => messages.push(message));
    channel.connect();
    channel.connect(); // one socket at a time
    expect(FakeSocket.all).toHaveLength(1);
    const socket = FakeSocket.all[0];
    expect(channel.send({ action: 'watch-metrics', id: '1' })).toBe(false);
    socket.open();
    expect(channel.send({ action: 'watch-metrics', id: '1' })).toBe(true);
    expect(socket.actions()).toEqual(['watch-metrics 1']);
    socket.onmessage?.({ data: 'not json' });
    socket.onmessage?.({ data: '[1]' });
    socket.receive({ event: 'pong', data: {} });
    expect(messages).toEqual([{ event: 'pong', data: {} }]);
    channel.dispose();
    expect(socket.readyState).toBe(3);
    expect(states).toEqual(['open', 'disposed']);
    expect(channel.send({ action: 'unwatch-metrics', id: '1' })).toBe(false);
  });
});

describe('JobDetailSections', () => {
  it('keeps the sections by rank, in the order added for equal ranks, and takes them out again', () => {
    const sections = new JobDetailSections();
    let changes = 0;
    sections.changed.connect(() => changes++);
    sections.add({ id: 'metrics', rank: JobDetailRank.efficiency + 100 });
    const sweep = sections.add({ id: 'sweep', rank: JobDetailRank.facts + 100 });
    sections.add({ id: 'notebook', rank: JobDetailRank.facts + 100 });
    expect(sections.sections.map(s => s.id)).toEqual(['sweep', 'notebook', 'metrics']);
    expect(() => sections.add({ id: 'sweep', rank: 1 })).toThrow(/already/);
    sweep.dispose();
    expect(sections.sections.map(s => s.id)).toEqual(['notebook', 'metrics']);
    expect(changes).toBe(4);
  });
});
