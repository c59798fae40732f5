// The studio's WebSocket client (docs/protocol.md, subprotocol zencast.v1): one socket per room,
// joined with a token, kept alive with pings that double as clock-sync samples, and reconnected
// with exponential backoff and jitter after a drop, joining the room again each time.

export const SUBPROTOCOL = 'zencast.v1';

// ---------------------------------------------------------------------------------------------
// Messages

export type Role = 'host' | 'guest';

export interface Participant {
  id: string;
  name: string;
  role: Role;
  joinedAt: number;
}

export interface RecordingInfo {
  state: 'idle' | 'recording';
  takeId: string | null;
  startAt: number | null;
  stopAt: number | null;
}

export interface ChatMessage {
  id: string;
  from: string;
  name: string;
  text: string;
  sentAt: number;
}

export interface UploadStatus {
  recorded: number;
  uploaded: number;
  updatedAt: number;
}

export type SignalType = 'offer' | 'answer' | 'candidate';

export type ClientMessage =
  | { type: 'join'; roomId: string; token: string }
  | { type: 'ping'; clientTime: number }
  | { type: SignalType; to: string; payload: unknown }
  | { type: 'chat'; text: string }
  | { type: 'upload-status'; recorded: number; uploaded: number }
  | { type: 'recording.start' }
  | { type: 'recording.stop' }
  | { type: 'mute'; participantId: string }
  | { type: 'remove'; participantId: string };

export interface JoinedMessage {
  type: 'joined';
  roomId: string;
  participantId: string;
  role: Role;
  name: string;
  participants: Participant[];
  recording: RecordingInfo;
  iceServers: RTCIceServer[];
  chat: ChatMessage[];
  uploads: Record<string, UploadStatus>;
  serverTime: number;
}

export type ServerMessage =
  | JoinedMessage
  | { type: 'peer-joined'; participant: Participant }
  | { type: 'peer-left'; participantId: string }
  | { type: 'pong'; clientTime: number; serverReceiveTime: number; serverSendTime: number }
  | { type: 'offer'; from: string; payload: unknown }
  | { type: 'answer'; from: string; payload: unknown }
  | { type: 'candidate'; from: string; payload: unknown }
  | { type: 'chat'; message: ChatMessage }
  | ({ type: 'upload-status'; participantId: string } & UploadStatus)
  | { type: 'recording.started'; takeId: string; startAt: number; serverTime: number }
  | { type: 'recording.stopped'; takeId: string; stopAt: number; serverTime: number }
  | { type: 'mute-request'; from: string }
  | { type: 'removed' }
  | { type: 'error'; code: ErrorCode; message: string };

export type ServerMessageType = ServerMessage['type'];
export type MessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;

export type ErrorCode =
  | 'invalid_json'
  | 'invalid_message'
  | 'unknown_type'
  | 'not_joined'
  | 'unauthorized'
  | 'token_expired'
  | 'forbidden'
  | 'not_found'
  | 'room_full'
  | 'peer_not_found'
  | 'rate_limited'
  | 'message_too_large'
  | 'unsupported'
  | 'already_recording'
  | 'not_recording'
  | 'replaced'
  | 'internal_error'
  // Client-side: the socket is not joined, or a request got no answer in time.
  | 'not_connected'
  | 'timeout';

export class SocketError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Clock: every local time this module reports is on this clock.

/** Epoch-like milliseconds from the monotonic clock (never jumps when the system clock is set). */
export function localNow(): number {
  return performance.timeOrigin + performance.now();
}

export type PongListener = (sentAtLocal: number, serverTime: number, receivedAtLocal: number, pong: MessageOf<'pong'>) => void;

const pongListeners = new Set<PongListener>();

/**
 * Clock-sync samples from whichever room socket is open. `serverTime` is the midpoint of the
 * server's receive and send times, so `serverTime - (sentAtLocal + receivedAtLocal) / 2` is the
 * protocol's offset estimate; `pong` has the raw fields for the round trip. Returns an unsubscribe.
 */
export function onPong(listener: PongListener): () => void {
  pongListeners.add(listener);
  return () => pongListeners.delete(listener);
}

// ---------------------------------------------------------------------------------------------
// Connection state

export type SocketStatus =
  | 'idle' // not started
  | 'connecting' // first connection, before `joined`
  | 'joined'
  | 'reconnecting' // dropped; a retry is scheduled or under way
  | 'closed'; // for good: left, or a close the protocol says not to retry

export interface SocketState {
  status: SocketStatus;
  /** Retries since the last successful join. */
  attempt: number;
  /** When the next retry starts (localNow), while reconnecting and waiting. */
  retryAt: number | null;
  /** Why it is reconnecting or closed: the server's error, or a close code. */
  error: { code: string; message: string } | null;
  closeCode: number | null;
}

export interface RoomSocketOptions {
  roomId: string;
  /** The join token; called before every (re)connection so a refreshed token is used. */
  token: () => string | null;
  /**
   * Called after the server refused the token as expired (4401 `token_expired`). Resolve true
   * when a fresh token is available (the socket reconnects), false to give up.
   */
  refreshToken?: () => Promise<boolean>;
  /** Default: /ws on this page's host. */
  url?: string;
  backoff?: { baseMs: number; maxMs: number };
  /** Keep-alive and clock-sync cadence. */
  pingIntervalMs?: number;
}

// Close codes after which the protocol says not to reconnect on our own.
const FINAL_CLOSE_CODES = new Set([1000, 1003, 1009, 4403, 4404, 4409]);

// The error message that precedes each close code (protocol.md, Errors).
const CLOSE_ERRORS: Record<number, ErrorCode[]> = {
  1003: ['unsupported'],
  1008: ['rate_limited'],
  1009: ['message_too_large'],
  4401: ['not_joined', 'unauthorized', 'token_expired'],
  4403: ['forbidden'],
  4404: ['not_found'],
  4409: ['replaced'],
  4429: ['room_full'],
};

function closeReason(code: number): { code: string; message: string } {
  if (code === 4403) return { code: 'forbidden', message: 'You may not join this room.' };
  if (code === 1001) return { code: 'server_restart', message: 'The server is restarting.' };
  return { code: 'connection_lost', message: `The connection to the studio was lost (${code}).` };
}

const CLOCK_BURST = { count: 6, gapMs: 300 };
const DEFAULT_PING_INTERVAL_MS = 5_000;
const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 15_000 };
const JOIN_TIMEOUT_MS = 10_000;

type Listener<T extends ServerMessageType> = (message: MessageOf<T>) => void;

export interface RequestOptions<A extends ServerMessageType> {
  /** The message that answers the request. */
  answer: A;
  /** Further test on the answer (the protocol has no request ids). */
  match?: (message: MessageOf<A>) => boolean;
  /** Error codes that reject the request. */
  errors: ErrorCode[];
  timeoutMs?: number;
}

export function defaultSocketUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

/** One room's socket. `connect()` once; `leave()` to close it for good. */
export class RoomSocket {
  private ws: WebSocket | null = null;
  private readonly listeners = new Map<ServerMessageType, Set<(m: ServerMessage) => void>>();
  private readonly statusListeners = new Set<(s: SocketState) => void>();
  private state: SocketState = { status: 'idle', attempt: 0, retryAt: null, error: null, closeCode: null };
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private lastHeardAt = 0;
  private lastError: { code: ErrorCode; message: string } | null = null;
  private readonly options: Required<Omit<RoomSocketOptions, 'refreshToken'>> & Pick<RoomSocketOptions, 'refreshToken'>;

  constructor(options: RoomSocketOptions) {
    this.options = {
      url: defaultSocketUrl(),
      backoff: DEFAULT_BACKOFF,
      pingIntervalMs: DEFAULT_PING_INTERVAL_MS,
      ...options,
    };
  }

  get status(): SocketState {
    return this.state;
  }

  /** Subscribe to one server message type. Returns an unsubscribe. */
  on<T extends ServerMessageType>(type: T, listener: Listener<T>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const wrapped = listener as (m: ServerMessage) => void;
    set.add(wrapped);
    return () => set.delete(wrapped);
  }

  onStatus(listener: (s: SocketState) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  connect(): void {
    if (this.state.status !== 'idle') return;
    window.addEventListener('online', this.handleOnline);
    window.addEventListener('offline', this.handleOffline);
    this.setState({ status: 'connecting' });
    this.open();
  }

  /** Sends when joined; returns false (and drops the message) otherwise. */
  send(message: ClientMessage): boolean {
    if (this.state.status !== 'joined' || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /**
   * Sends `message` and resolves with its answer, or rejects with a SocketError for one of
   * `errors`, a drop of the connection, or no answer within the timeout.
   */
  request<A extends ServerMessageType>(message: ClientMessage, opts: RequestOptions<A>): Promise<MessageOf<A>> {
    return new Promise((resolve, reject) => {
      const cleanups: Array<() => void> = [];
      const finish = (fn: () => void) => {
        cleanups.forEach((c) => c());
        fn();
      };
      cleanups.push(
        this.on(opts.answer, (m) => {
          if (!opts.match || opts.match(m)) finish(() => resolve(m));
        }),
        this.on('error', (m) => {
          if (opts.errors.includes(m.code)) finish(() => reject(new SocketError(m.code, m.message)));
        }),
        this.onStatus((s) => {
          if (s.status !== 'joined') finish(() => reject(new SocketError('not_connected', 'The connection was lost.')));
        }),
      );
      const timer = setTimeout(
        () => finish(() => reject(new SocketError('timeout', 'The server did not answer in time.'))),
        opts.timeoutMs ?? 10_000,
      );
      cleanups.push(() => clearTimeout(timer));
      if (!this.send(message)) finish(() => reject(new SocketError('not_connected', 'Not connected to the studio.')));
    });
  }

  /** Closes for good (normal close 1000); no reconnect. */
  leave(): void {
    window.removeEventListener('online', this.handleOnline);
    window.removeEventListener('offline', this.handleOffline);
    this.clearTimers();
    const ws = this.ws;
    this.detach();
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'left');
    this.setState({ status: 'closed', retryAt: null, error: null, closeCode: 1000 });
  }

  // -------------------------------------------------------------------------------------------

  private open(): void {
    const token = this.options.token();
    if (!token) {
      this.finish({ code: 'unauthorized', message: 'No token to join this room with.' }, 4401);
      return;
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.options.url, SUBPROTOCOL);
    } catch (err) {
      this.dropped({ code: 'not_connected', message: String(err) }, 1006);
      return;
    }
    this.ws = ws;
    this.lastError = null;
    this.lastHeardAt = localNow();
    const joinTimer = this.later(() => {
      if (this.ws === ws && this.state.status !== 'joined') this.abandon({ code: 'timeout', message: 'Joining took too long.' });
    }, JOIN_TIMEOUT_MS);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', roomId: this.options.roomId, token }));
    ws.onmessage = (event) => {
      this.lastHeardAt = localNow();
      if (typeof event.data !== 'string') return;
      let message: ServerMessage;
      try {
        message = JSON.parse(event.data) as ServerMessage;
      } catch {
        return;
      }
      if (message.type === 'joined') {
        clearTimeout(joinTimer);
        this.timers.delete(joinTimer);
        this.joined();
      } else if (message.type === 'error') {
        this.lastError = { code: message.code, message: message.message };
      } else if (message.type === 'pong') {
        this.pong(message);
      }
      this.emit(message);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.detach();
      this.closed(event.code);
    };
  }

  private joined(): void {
    this.setState({ status: 'joined', attempt: 0, retryAt: null, error: null, closeCode: null });
    this.startPinging();
  }

  private closed(code: number): void {
    const error = this.lastError && CLOSE_ERRORS[code]?.includes(this.lastError.code) ? this.lastError : closeReason(code);
    if (code === 4401 && this.lastError?.code === 'token_expired' && this.options.refreshToken) {
      this.setState({ status: 'reconnecting', error, closeCode: code, retryAt: null });
      this.options.refreshToken().then(
        (ok) => (ok ? this.retryNow() : this.finish(error, code)),
        () => this.finish(error, code),
      );
      return;
    }
    if (FINAL_CLOSE_CODES.has(code) || code === 4401) {
      this.finish(error, code);
      return;
    }
    this.dropped(error, code);
  }

  /** Schedules a retry: exponential backoff with full jitter; longer after 1008 / 4429. */
  private dropped(error: { code: string; message: string }, code: number): void {
    this.stopPinging();
    const { baseMs, maxMs } = this.options.backoff;
    const attempt = this.state.attempt + 1;
    const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
    let delay = ceiling / 2 + Math.random() * (ceiling / 2);
    if (code === 1008 || code === 4429) delay = Math.max(delay, 5_000);
    this.setState({ status: 'reconnecting', attempt, retryAt: localNow() + delay, error, closeCode: code });
    this.later(() => this.open(), delay);
  }

  private finish(error: { code: string; message: string }, code: number): void {
    this.stopPinging();
    this.clearTimers();
    window.removeEventListener('online', this.handleOnline);
    window.removeEventListener('offline', this.handleOffline);
    this.setState({ status: 'closed', retryAt: null, error, closeCode: code });
  }

  private retryNow(): void {
    if (this.state.status === 'closed') return;
    this.clearTimers();
    this.setState({ retryAt: null });
    this.open();
  }

  /** Gives up on a socket that went quiet (its close may never come) and reconnects. */
  private abandon(error: { code: string; message: string }): void {
    const ws = this.ws;
    if (!ws) return;
    this.detach();
    try {
      ws.close(4000, 'abandoned');
    } catch {
      /* already closing */
    }
    this.dropped(error, 1006);
  }

  private detach(): void {
    const ws = this.ws;
    this.stopPinging();
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    this.ws = null;
  }

  private handleOffline = () => {
    if (this.state.status === 'joined' || this.state.status === 'connecting') {
      this.abandon({ code: 'offline', message: 'The network is offline.' });
    }
  };

  private handleOnline = () => {
    if (this.state.status === 'reconnecting' && !this.ws) this.retryNow();
  };

  // Clock sync and liveness: a burst of pings after each join (for a good first offset), then
  // one every pingIntervalMs. A socket that has heard nothing for three intervals is dead.
  private startPinging(): void {
    this.stopPinging();
    for (let i = 0; i < CLOCK_BURST.count; i++) this.later(() => this.ping(), i * CLOCK_BURST.gapMs);
    this.pingTimer = setInterval(() => {
      if (localNow() - this.lastHeardAt > 3 * this.options.pingIntervalMs) {
        this.abandon({ code: 'timeout', message: 'The server stopped answering.' });
        return;
      }
      this.ping();
    }, this.options.pingIntervalMs);
  }

  private stopPinging(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private ping(): void {
    this.send({ type: 'ping', clientTime: localNow() });
  }

  private pong(message: MessageOf<'pong'>): void {
    const receivedAt = localNow();
    const serverTime = (message.serverReceiveTime + message.serverSendTime) / 2;
    for (const listener of pongListeners) listener(message.clientTime, serverTime, receivedAt, message);
  }

  private emit(message: ServerMessage): void {
    const set = this.listeners.get(message.type);
    if (!set) return;
    for (const listener of [...set]) listener(message);
  }

  private setState(patch: Partial<SocketState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of [...this.statusListeners]) listener(this.state);
  }

  private later(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
