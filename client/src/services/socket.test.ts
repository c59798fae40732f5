import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { RoomSocket, SocketError, SUBPROTOCOL, type SocketState } from './socket';

// A stand-in for the browser's WebSocket: records what is sent, lets the test deliver messages
// and closes.
class FakeWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static all: FakeWebSocket[] = [];
  readyState = FakeWebSocket.CONNECTING;
  sent: Array<Record<string, unknown>> = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocol: string,
  ) {
    FakeWebSocket.all.push(this);
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = FakeWebSocket.CLOSED;
  }
  open() {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.();
  }
  receive(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code: number) {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code });
  }
}

const JOINED = {
  type: 'joined',
  roomId: 'room-1',
  participantId: 'me',
  role: 'guest',
  name: 'Grace',
  participants: [],
  recording: { state: 'idle', takeId: null, startAt: null, stopAt: null },
  iceServers: [],
  chat: [],
  uploads: {},
  serverTime: 1,
};

function latest() {
  return FakeWebSocket.all[FakeWebSocket.all.length - 1];
}

function connect(options: Partial<ConstructorParameters<typeof RoomSocket>[0]> = {}) {
  const socket = new RoomSocket({ roomId: 'room-1', token: () => 'tok', url: 'ws://test/ws', ...options });
  const states: SocketState[] = [];
  socket.onStatus((s) => states.push(s));
  socket.connect();
  return { socket, states };
}

function join() {
  latest().open();
  latest().receive(JOINED);
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.all = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal('window', new EventTarget());
  vi.stubGlobal('location', { protocol: 'http:', host: 'test' });
  vi.stubGlobal('navigator', { onLine: true });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('RoomSocket', () => {
  it('offers zencast.v1 and joins with the token first', () => {
    const { socket } = connect();
    expect(latest().protocol).toBe(SUBPROTOCOL);
    join();
    expect(latest().sent[0]).toEqual({ type: 'join', roomId: 'room-1', token: 'tok' });
    expect(socket.status.status).toBe('joined');
  });

  it('sends a burst of clock-sync pings after joining and reports pongs', async () => {
    const { onPong } = await import('./socket');
    const samples: number[][] = [];
    const off = onPong((sent, server, received) => samples.push([sent, server, received]));
    connect();
    join();
    vi.advanceTimersByTime(2_000);
    const pings = latest().sent.filter((m) => m.type === 'ping');
    expect(pings.length).toBeGreaterThanOrEqual(5);
    latest().receive({ type: 'pong', clientTime: pings[0].clientTime, serverReceiveTime: 100, serverSendTime: 102 });
    expect(samples).toHaveLength(1);
    expect(samples[0][0]).toBe(pings[0].clientTime);
    expect(samples[0][1]).toBe(101);
    off();
  });

  it('reconnects with backoff after a drop and joins again', () => {
    const { states } = connect();
    join();
    latest().drop(1006);
    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', attempt: 1 });
    const before = FakeWebSocket.all.length;
    vi.advanceTimersByTime(600); // attempt 1: between 250 and 500 ms
    expect(FakeWebSocket.all.length).toBe(before + 1);
    latest().drop(1006);
    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', attempt: 2 });
    vi.advanceTimersByTime(1_100); // attempt 2: between 500 and 1000 ms
    join();
    expect(latest().sent[0]).toMatchObject({ type: 'join' });
    expect(states.at(-1)).toMatchObject({ status: 'joined', attempt: 0 });
  });

  it('does not reconnect after being replaced (4409), and says why', () => {
    const { states } = connect();
    join();
    latest().receive({ type: 'error', code: 'replaced', message: 'you joined again from another connection' });
    latest().drop(4409);
    const count = FakeWebSocket.all.length;
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.all.length).toBe(count);
    expect(states.at(-1)).toMatchObject({ status: 'closed', closeCode: 4409, error: { code: 'replaced' } });
  });

  it('refreshes an expired token and joins again', async () => {
    let token = 'old';
    const refreshToken = vi.fn(async () => {
      token = 'new';
      return true;
    });
    connect({ token: () => token, refreshToken });
    latest().open();
    latest().receive({ type: 'error', code: 'token_expired', message: 'expired' });
    latest().drop(4401);
    await vi.waitFor(() => expect(refreshToken).toHaveBeenCalled());
    await Promise.resolve();
    latest().open();
    expect(latest().sent[0]).toEqual({ type: 'join', roomId: 'room-1', token: 'new' });
  });

  it('a request resolves with its answer or rejects with the protocol error', async () => {
    const { socket } = connect();
    join();
    const started = socket.request({ type: 'recording.start' }, { answer: 'recording.started', errors: ['already_recording'] });
    latest().receive({ type: 'recording.started', takeId: 't', startAt: 5, serverTime: 2 });
    await expect(started).resolves.toMatchObject({ takeId: 't' });

    const again = socket.request({ type: 'recording.start' }, { answer: 'recording.started', errors: ['already_recording'] });
    latest().receive({ type: 'error', code: 'already_recording', message: 'already' });
    await expect(again).rejects.toEqual(new SocketError('already_recording', 'already'));
  });

  it('leave closes for good', () => {
    const { socket, states } = connect();
    join();
    socket.leave();
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.all).toHaveLength(1);
    expect(states.at(-1)).toMatchObject({ status: 'closed', closeCode: 1000 });
    expect(socket.send({ type: 'chat', text: 'hi' })).toBe(false);
  });
});
