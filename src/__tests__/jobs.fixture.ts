import { TritonAPI } from '../api';
import { EventsChannel, ISocketLike } from '../events/channel';

/** A job as GET jobs lists it, with what a test does not care about filled in. */
export function job(over: Partial<TritonAPI.IJob>): TritonAPI.IJob {
  return {
    id: '1',
    name: 'job',
    state: 'PENDING',
    reason: null,
    partition: 'batch-csl',
    nodes: null,
    node_count: null,
    gpus: null,
    cpus: 1,
    user: 'me',
    account: null,
    submitted: 1000,
    started: null,
    ended: null,
    expected_start: null,
    elapsed: null,
    time_limit: 60,
    exit_code: null,
    signal: null,
    signal_name: null,
    gpu_count: null,
    array_job_id: null,
    array_task_id: null,
    workdir: null,
    stdout_path: null,
    stderr_path: null,
    runs: [],
    tracked: true,
    origin: null,
    directory: null,
    directory_error: null,
    ...over
  };
}

/** A push channel the tests drive by hand: open it, deliver messages, read what the model sent. */
export class FakeSocket implements ISocketLike {
  /** Every socket made, oldest first (tests reset it). */
  static all: FakeSocket[] = [];

  static get last(): FakeSocket | null {
    return FakeSocket.all[FakeSocket.all.length - 1] ?? null;
  }

  constructor(readonly url = '') {
    FakeSocket.all.push(this);
  }

  readyState = 0;
  sent: string[] = [];
  onopen: ((event: any) => void) | null = null;
  onmessage: ((event: { data: any }) => void) | null = null;
  onclose: ((event: any) => void) | null = null;
  onerror: ((event: any) => void) | null = null;

  send(data: string): void {
    this.sent.push(data);
  }

  close(): void {
    this.readyState = 3;
    this.onclose?.({});
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  /** The actions sent (not the pings), as "action id". */
  actions(): string[] {
    return this.sent
      .filter(s => s !== 'ping')
      .map(s => {
        const m = JSON.parse(s);
        return `${m.action} ${m.id}`;
      });
  }
}

/** A push channel over FakeSockets, not connected yet (tests call `connect()`). */
export function fakeChannel(options: EventsChannel.IOptions = {}): EventsChannel {
  return new EventsChannel({ auto: false, socketFactory: url => new FakeSocket(url), ...options });
}
