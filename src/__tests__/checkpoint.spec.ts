import { Signal } from '@lumino/signaling';

import { TritonAPI, noteServerTime, serverNow } from '../api';
import { TimeLimitNotifier, notifyAt } from '../checkpoint/notify';
import { checkpointOf, nearLimit, outcomeLabel, runsOf, shortDuration, timeLeft } from '../checkpoint/timeleft';
import { JobsModel } from '../jobs/model';
import { EventsChannel } from '../events/channel';
import { checkpointFromForm } from '../jobs/checkpointform';
import { job } from './jobs.fixture';

describe('time left', () => {
  const running = job({ id: '7', state: 'RUNNING', started: 1000, time_limit: 60 });

  it('counts down from the start and the limit, only while running', () => {
    expect(timeLeft(running, 1000 + 3000)).toBe(600);
    expect(timeLeft(running, 1000 + 9999)).toBe(0);
    expect(timeLeft({ ...running, state: 'PENDING' }, 2000)).toBeNull();
    expect(timeLeft({ ...running, time_limit: null }, 2000)).toBeNull();
  });

  it('warns in the last 10 % of the limit', () => {
    expect(nearLimit(running, 1000 + 3240 - 1)).toBe(false);
    expect(nearLimit(running, 1000 + 3240)).toBe(true);
  });

  it("counts on the server's clock, not the browser's (issue 23)", () => {
    // The browser's clock is 10 minutes ahead of the server's: the job's start is the server's time.
    const browserNow = 1_800_000_000;
    const serverTime = browserNow - 600;
    const started = job({ id: '8', state: 'RUNNING', started: serverTime - 60, time_limit: 10 });
    const spy = jest.spyOn(Date, 'now').mockReturnValue(browserNow * 1000);
    try {
      // The job list (GET jobs, the push channel's snapshot) carries the server's time.
      const model = new JobsModel({ channel: new EventsChannel({ auto: false }), auto: false });
      model.applySnapshot({ jobs: [started], updated: serverTime, error: null, interval: 60, server_time: serverTime });
      model.dispose();
      expect(serverNow()).toBe(serverTime);
      expect(timeLeft(started)).toBe(540); // 10 min limit, 1 min run: 9 min left (the browser would say 0)
      expect(nearLimit(started)).toBe(false);
    } finally {
      noteServerTime(browserNow, browserNow);
      spy.mockRestore();
    }
  });

  it('says it shortly', () => {
    expect(shortDuration(45)).toBe('45 s');
    expect(shortDuration(120)).toBe('2 min');
    expect(shortDuration(3900)).toBe('1 h 05 min');
  });
});

describe('restart history', () => {
  const runs = [
    { run: 0, started: 10, ended: 70, nodes: 'csl1', warned: 40, outcome: 'requeued' },
    { run: 1, started: 200, ended: null, nodes: 'csl1', warned: null, outcome: null }
  ];

  it('takes the longer of the pushed record and the detail', () => {
    const detail = { ...job({ id: '7' }), runs: runs.slice(0, 1) } as unknown as TritonAPI.IJobDetail;
    expect(runsOf(job({ id: '7', runs }), detail)).toHaveLength(2);
    expect(runsOf(job({ id: '7' }), detail)).toHaveLength(1);
  });

  it('labels each run', () => {
    expect(outcomeLabel(runs[0], false, 'RUNNING')).toBe('stopped for the time limit, requeued');
    expect(outcomeLabel(runs[1], true, 'RUNNING')).toBe('running');
    expect(outcomeLabel({ ...runs[1], outcome: 'exit 0' }, true, 'COMPLETED')).toBe('exit 0');
  });

  it('reads the option from the detail spec', () => {
    const detail = { spec: { checkpoint: { warn: '120s', requeue: 3 } } } as unknown as TritonAPI.IJobDetail;
    expect(checkpointOf(detail)).toEqual({ warn: '120s', requeue: 3 });
    expect(checkpointOf(null)).toBeNull();
  });
});

describe('the dialog fields', () => {
  it('send checkpoint only when filled, and catch a bad count', () => {
    expect(checkpointFromForm({ warn: '', requeue: '' })).toBeUndefined();
    expect(checkpointFromForm({ warn: '2m', requeue: '3' })).toEqual({ warn: '2m', requeue: 3 });
    expect(checkpointFromForm({ warn: '', requeue: '1' })).toEqual({ requeue: 1 });
    const errors: { [field: string]: string } = {};
    expect(checkpointFromForm({ warn: '2m', requeue: 'many' }, errors)).toBeUndefined();
    expect(errors['checkpoint.requeue']).toMatch(/whole number/);
  });
});

describe('the time-limit notification', () => {
  function fakeModel(jobs: TritonAPI.IJob[]) {
    const model = { jobs: new Map(jobs.map(j => [j.id, j])), changed: new Signal<unknown, void>({}) };
    return model as unknown as JobsModel;
  }

  it('tells once, for a tracked job without the option, near its limit', async () => {
    const now = Date.now() / 1000;
    const near = job({ id: '1', name: 'train', state: 'RUNNING', started: now - 3540, time_limit: 60 });
    const far = job({ id: '2', state: 'RUNNING', started: now - 60, time_limit: 60 });
    const long = job({ id: '3', state: 'RUNNING', started: now - 3540, time_limit: 60 });
    const shown: string[] = [];
    const notifier = new TimeLimitNotifier(
      fakeModel([near, far, long]),
      (j, left) => shown.push(`${j.id}:${Math.round(left / 60)}`),
      async id => id === '3',
      100000
    );
    notifier.check();
    notifier.check();
    await Promise.resolve();
    await Promise.resolve();
    expect(shown).toEqual(['1:1']);
    expect(notifyAt(near)).toBe(120);
    expect(notifyAt(job({ time_limit: 1 }))).toBe(30);
    notifier.dispose();
    expect(notifier.isDisposed).toBe(true);
  });
});
