/**
 * The server's push channel (`{base_url}tritonml/events`), ONE per browser tab: a snapshot of my jobs
 * on connect and one event per changed job (for the jobs model), and the samples of the jobs watched
 * over it (for the metrics watcher).
 *
 * It owns the WebSocket and nothing else: it reconnects with back-off after a drop, and sends a
 * `ping` every 30 s so that proxies (Open OnDemand) do not close an idle socket. What to do while it
 * is down (poll the REST API) is each listener's business, told by `stateChanged`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { API_NAMESPACE, TritonAPI } from '../api';

/** The little of the WebSocket API the channel uses (tests pass a fake). */
export interface ISocketLike {
  readyState: number;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: any }) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** `connecting` until the first open; `closed`: dropped, a reconnect is scheduled. */
export type ChannelState = 'connecting' | 'open' | 'closed' | 'disposed';

/** Every message the server sends on the channel. */
export type ServerEvent = TritonAPI.IServerEvent;

export class EventsChannel implements IDisposable {
  constructor(options: EventsChannel.IOptions = {}) {
    this._socketFactory = options.socketFactory ?? defaultSocketFactory;
    this._pingMs = options.pingMs ?? 30 * 1000;
    this._reconnectMin = options.reconnectMinMs ?? 1000;
    this._reconnectMax = options.reconnectMaxMs ?? 60 * 1000;
    if (options.auto ?? true) {
      this.connect();
    }
  }

  get state(): ChannelState {
    return this._state;
  }

  /** Emits on every change of `state`. */
  get stateChanged(): ISignal<this, ChannelState> {
    return this._stateChanged;
  }

  /** Emits each message of the server, parsed (malformed ones are dropped). */
  get message(): ISignal<this, ServerEvent> {
    return this._message;
  }

  get isDisposed(): boolean {
    return this._state === 'disposed';
  }

  /** Open the socket (done by the constructor unless `auto: false`); a no-op while one is open. */
  connect(): void {
    if (this.isDisposed || this._socket) {
      return;
    }
    this._clearReconnect();
    this._setState('connecting');
    let socket: ISocketLike;
    try {
      socket = this._socketFactory(eventsUrl());
    } catch (error) {
      console.warn('tritonml-lab: cannot open the events channel', error);
      this._onClosed();
      return;
    }
    this._socket = socket;
    socket.onopen = () => {
      if (this._socket === socket) {
        this._attempts = 0;
        this._startPing();
        this._setState('open');
      }
    };
    socket.onmessage = event => {
      if (this._socket === socket) {
        this._receive(event.data);
      }
    };
    socket.onclose = () => {
      if (this._socket === socket) {
        this._socket = null;
        this._onClosed();
      }
    };
    socket.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
  }

  /** Send `message` as JSON; false (nothing sent) while the socket is not open. */
  send(message: TritonAPI.IClientAction): boolean {
    const socket = this._socket;
    if (!socket || socket.readyState !== 1) {
      return false;
    }
    socket.send(JSON.stringify(message));
    return true;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._clearReconnect();
    this._stopPing();
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
    this._setState('disposed');
    Signal.clearData(this);
  }

  private _receive(raw: string): void {
    let message: ServerEvent;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (message && typeof message === 'object' && typeof message.event === 'string') {
      this._message.emit(message);
    }
  }

  private _onClosed(): void {
    this._stopPing();
    if (this.isDisposed) {
      return;
    }
    this._setState('closed');
    const delay = Math.min(this._reconnectMax, this._reconnectMin * 2 ** this._attempts);
    this._attempts++;
    // A little jitter so that the tabs of a restarted server do not all come back at once.
    this._reconnectTimer = setTimeout(
      () => {
        this._reconnectTimer = null;
        this.connect();
      },
      delay * (0.8 + 0.4 * Math.random())
    );
  }

  private _startPing(): void {
    this._stopPing();
    this._pingTimer = setInterval(() => {
      const socket = this._socket;
      if (socket && socket.readyState === 1) {
        socket.send('ping');
      }
    }, this._pingMs);
  }

  private _stopPing(): void {
    if (this._pingTimer !== null) {
      clearInterval(this._pingTimer);
      this._pingTimer = null;
    }
  }

  private _clearReconnect(): void {
    if (this._reconnectTimer !== null) {
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
    }
  }

  private _setState(state: ChannelState): void {
    if (this._state !== state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _socketFactory: (url: string) => ISocketLike;
  private _socket: ISocketLike | null = null;
  private _state: ChannelState = 'connecting';
  private _pingMs: number;
  private _pingTimer: ReturnType<typeof setInterval> | null = null;
  private _reconnectMin: number;
  private _reconnectMax: number;
  private _reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private _attempts = 0;
  private _stateChanged = new Signal<this, ChannelState>(this);
  private _message = new Signal<this, ServerEvent>(this);
}

export namespace EventsChannel {
  export interface IOptions {
    /** Connect at once (default true); tests pass false and call `connect()`. */
    auto?: boolean;
    /** Opens the socket; defaults to the server settings' WebSocket. */
    socketFactory?: (url: string) => ISocketLike;
    pingMs?: number;
    reconnectMinMs?: number;
    reconnectMaxMs?: number;
  }
}

/**
 * The channel's address under base_url. As @jupyterlab/services does for kernel sockets: browsers
 * send no Authorization header on a WebSocket, so the token travels in the query when the server
 * is configured for it.
 */
export function eventsUrl(settings: ServerConnection.ISettings = ServerConnection.makeSettings()): string {
  const url = URLExt.join(settings.wsUrl, API_NAMESPACE, 'events');
  return settings.appendToken && settings.token ? `${url}?token=${encodeURIComponent(settings.token)}` : url;
}

function defaultSocketFactory(url: string): ISocketLike {
  const settings = ServerConnection.makeSettings();
  return new settings.WebSocket(url) as unknown as ISocketLike;
}
