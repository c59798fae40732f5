// A small WebSocket client for the signalling tests (protocol zencast.v1, docs/protocol.md).
//
//   const { ws: host, joined } = await joinAs(server, { token: accessToken, roomId });
//   host.send({ type: 'ping', clientTime: Date.now() });
//   const pong = await host.next('pong');
//   const { code } = await host.closed;
//
// Every text frame received is parsed and kept: `next()` takes the first buffered message that
// matches and leaves the others in the buffer, so nothing that arrived early is missed.
// Everything waits on a condition with a timeout; nothing sleeps.
import WebSocket from 'ws';

import { startServer } from './server.mjs';

export const SUBPROTOCOL = 'zencast.v1';
export const DEFAULT_TIMEOUT_MS = 5_000;

// Sockets not closed yet, so a test file can close whatever a failed test left open.
const openClients = new Set();

/**
 * startServer with every real-time setting of the server removed from the inherited environment
 * unless given in `env`, so the caller's shell cannot change what a test runs against.
 */
export function startWsServer({ env = {} } = {}) {
  const cleared = {
    ALLOWED_ORIGINS: undefined,
    MAX_PARTICIPANTS: undefined,
    WS_MAX_MESSAGE_BYTES: undefined,
    WS_MESSAGES_PER_SECOND: undefined,
    WS_SEND_QUEUE_BYTES: undefined,
    HEARTBEAT_INTERVAL: undefined,
    HEARTBEAT_TIMEOUT: undefined,
    RECORDING_COUNTDOWN: undefined,
    STUN_URLS: undefined,
    TURN_URLS: undefined,
    TURN_SECRET: undefined,
    TURN_TTL: undefined,
    REDIS_URL: undefined,
  };
  return startServer({ env: { ...cleared, ...env } });
}

/** ws://127.0.0.1:PORT/ws?query for a server from startServer. */
export function wsUrl(server, { path = '/ws', query = {} } = {}) {
  const url = new URL(path, `ws://127.0.0.1:${server.port}`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url.href;
}

function describeMatcher(matcher) {
  return typeof matcher === 'string' ? `type "${matcher}"` : `predicate ${matcher.name || matcher.toString().slice(0, 120)}`;
}

function toPredicate(matcher) {
  if (typeof matcher === 'string') return (msg) => msg?.type === matcher;
  if (typeof matcher === 'function') return matcher;
  throw new TypeError('next() takes a message type or a predicate');
}

/**
 * Opens a WebSocket to the server. Resolves a client once the handshake succeeded; rejects if
 * it failed, with err.status set to the HTTP status of a refused handshake (null otherwise).
 *
 * options.token     added as the `token` query parameter
 * options.query     more query parameters
 * options.path      default /ws
 * options.origin    the Origin header (none by default, like a non-browser client)
 * options.protocol  the subprotocol to offer (default zencast.v1; null or [] offers none;
 *                   an array offers several)
 * options.headers   extra request headers
 * options.perMessageDeflate  passed to ws (default false: the protocol does not need it)
 */
export function connect(server, options = {}) {
  const {
    token,
    query = {},
    path = '/ws',
    origin,
    protocol = SUBPROTOCOL,
    headers = {},
    perMessageDeflate = false,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  } = options;
  const url = wsUrl(server, { path, query: token === undefined ? query : { ...query, token } });
  const protocols = protocol === null || protocol === undefined ? [] : protocol;
  const ws = new WebSocket(url, protocols, {
    origin,
    headers,
    perMessageDeflate,
    handshakeTimeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(err);
    };
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      const finish = () => {
        const err = new Error(`WebSocket handshake to ${url} refused: HTTP ${res.statusCode} ${body.slice(0, 300)}`);
        err.status = res.statusCode;
        err.headers = res.headers;
        err.body = body;
        fail(err);
      };
      res.on('end', finish);
      res.on('error', finish);
      res.on('close', finish);
    });
    const onError = (err) => {
      err.status ??= null;
      fail(err);
    };
    ws.on('error', onError); // stays until open: terminate() during the handshake emits one too
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      ws.off('error', onError);
      resolve(makeClient(ws, url));
    });
  });
}

function makeClient(ws, url) {
  const buffer = []; // received, not yet taken by next()
  const received = []; // every message received, in order
  const waiters = new Set();
  let closeInfo = null;
  let pings = 0;
  let lastError = null;

  openClients.add(ws);
  let resolveClosed;
  const closed = new Promise((resolve) => (resolveClosed = resolve));

  ws.on('message', (data, isBinary) => {
    let msg;
    if (isBinary) {
      msg = { type: '__binary__', data };
    } else {
      const text = data.toString('utf8');
      try {
        msg = JSON.parse(text);
      } catch {
        msg = { type: '__invalid_json__', text };
      }
    }
    received.push(msg);
    buffer.push(msg);
    for (const waiter of [...waiters]) waiter();
  });
  ws.on('ping', () => {
    pings += 1;
    for (const waiter of [...waiters]) waiter();
  });
  ws.on('error', (err) => {
    lastError = err; // 'close' follows
  });
  ws.on('close', (code, reason) => {
    closeInfo = { code, reason: reason.toString('utf8'), error: lastError };
    openClients.delete(ws);
    resolveClosed(closeInfo);
    for (const waiter of [...waiters]) waiter();
  });

  const summary = () =>
    `received so far: ${JSON.stringify(received).slice(-1500)}; socket ${closeInfo ? `closed ${closeInfo.code} ${closeInfo.reason}` : 'open'}`;

  /** Resolves once cond() is truthy (checked on every event); rejects after timeoutMs. */
  function waitUntil(cond, { timeoutMs = DEFAULT_TIMEOUT_MS, what = 'condition', failOnClose = true } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let value;
        try {
          value = cond();
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (value) {
          done();
          resolve(value);
        } else if (closeInfo && failOnClose) {
          done();
          reject(new Error(`socket closed while waiting for ${what}; ${summary()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${summary()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  const client = {
    ws,
    url,
    /** Every message received so far, in order (next() does not remove from this list). */
    received,
    /** Messages not taken by next() yet. */
    buffer,
    /** Resolves { code, reason } once the socket has closed. */
    closed,
    isOpen: () => closeInfo === null && ws.readyState === WebSocket.OPEN,
    closeInfo: () => closeInfo,
    /** How many ping frames the server has sent. */
    pings: () => pings,

    /** Sends obj as one JSON text frame. */
    send(obj) {
      ws.send(JSON.stringify(obj));
    },
    /** Sends data as is; opts go to ws.send ({ binary, fin, compress, mask }). */
    sendRaw(data, opts = {}) {
      return new Promise((resolve, reject) => {
        ws.send(data, opts, (err) => (err ? reject(err) : resolve()));
      });
    },

    /**
     * The first message, in arrival order, with this type (string) or for which predicate(msg) is
     * true; waits for it if none is buffered. It is removed from the buffer, other messages stay.
     * Rejects after timeoutMs, or at once if the socket closed without such a message.
     */
    next(matcher, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
      const pred = toPredicate(matcher);
      return waitUntil(
        () => {
          const i = buffer.findIndex((msg) => pred(msg));
          if (i < 0) return null;
          return { msg: buffer.splice(i, 1)[0] };
        },
        { timeoutMs, what: `a message with ${describeMatcher(matcher)}` },
      ).then(({ msg }) => msg);
    },

    /** Like next(), but never removes the message: resolves it once one has been received. */
    seen(matcher, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
      const pred = toPredicate(matcher);
      return waitUntil(() => received.find((msg) => pred(msg)), {
        timeoutMs,
        what: `a message with ${describeMatcher(matcher)}`,
      });
    },

    /** All messages received so far that match. */
    all(matcher) {
      const pred = toPredicate(matcher);
      return received.filter((msg) => pred(msg));
    },

    /** Resolves once cond(client) is truthy; the socket closing does not end the wait. */
    until(cond, { timeoutMs = DEFAULT_TIMEOUT_MS, what = 'condition' } = {}) {
      return waitUntil(() => cond(client), { timeoutMs, what, failOnClose: false });
    },

    /** Resolves { code, reason } once closed; rejects if still open after timeoutMs. */
    waitClosed({ timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
      return waitUntil(() => closeInfo, { timeoutMs, what: 'the socket to close', failOnClose: false });
    },

    /** Starts a normal close and waits for it to finish (terminates after timeoutMs). */
    async close(code = 1000, reason = '') {
      if (!closeInfo) {
        if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
        else ws.terminate();
        try {
          await client.waitClosed();
        } catch {
          ws.terminate();
          await closed;
        }
      }
      return closeInfo;
    },

    /** Drops the TCP connection without a close frame. */
    terminate() {
      ws.terminate();
      return closed;
    },
  };
  return client;
}

/**
 * Connects and joins: sends {type:"join", roomId, token} (fields left out when undefined; set
 * tokenInQuery to send the token in the URL instead). Resolves { ws, joined }; rejects with the
 * error message (err.wsError) and the close code (err.close) if the server refuses the join.
 */
export async function joinAs(server, { token, roomId, tokenInQuery = false, timeoutMs = DEFAULT_TIMEOUT_MS, ...connectOptions } = {}) {
  const ws = await connect(server, { ...connectOptions, token: tokenInQuery ? token : undefined, timeoutMs });
  const join = { type: 'join' };
  if (roomId !== undefined) join.roomId = roomId;
  if (token !== undefined && !tokenInQuery) join.token = token;
  ws.send(join);
  let answer;
  try {
    answer = await ws.next((m) => m.type === 'joined' || m.type === 'error', { timeoutMs });
  } catch (err) {
    ws.terminate();
    throw err;
  }
  if (answer.type === 'error') {
    const close = await ws.waitClosed({ timeoutMs }).catch(() => null);
    if (!close) ws.terminate();
    const err = new Error(`join refused: ${JSON.stringify(answer)}; close ${close ? `${close.code} ${close.reason}` : 'none'}`);
    err.wsError = answer;
    err.close = close;
    throw err;
  }
  return { ws, joined: answer };
}

/** Closes every client still open (for after() hooks), waiting for the closes to finish. */
export async function closeAllClients() {
  const sockets = [...openClients];
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
          }, 2_000);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          if (ws.readyState === WebSocket.OPEN) {
            // A paused socket (heartbeat tests) never reads the close frame: resume it first.
            ws._socket?.resume();
            ws.close(1000);
          } else {
            ws.terminate();
          }
        }),
    ),
  );
}
