// Small HTTP clients for the tests: a JSON helper on top of fetch, node:http for requests
// fetch refuses to make (literal `..` paths, chunked bodies), and raw TCP.
import http from 'node:http';
import net from 'node:net';

/**
 * One request. Returns { status, headers, body, text } where body is the parsed JSON (or null).
 *
 * options.body      a value to send as JSON (Content-Type: application/json unless contentType is given)
 * options.raw       a string or Buffer sent as is (Content-Type only if contentType is given)
 * options.token     sends `Authorization: Bearer <token>`
 * options.authorization  sends this exact Authorization header
 * options.headers   extra headers
 */
export async function request(baseUrl, method, path, options = {}) {
  const { body, raw, token, authorization, contentType, headers = {} } = options;
  const h = { ...headers };
  let payload;
  if (raw !== undefined) {
    payload = raw;
    if (contentType !== undefined) h['content-type'] = contentType;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['content-type'] = contentType ?? 'application/json';
  }
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  if (authorization !== undefined) h.authorization = authorization;

  const res = await fetch(baseUrl + path, { method, headers: h, body: payload, redirect: 'manual' });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/**
 * A request through node:http, which sends the path exactly as given and lets us control
 * framing. `chunks` (array of strings/Buffers) are written one by one; without a
 * Content-Length header node sends them with Transfer-Encoding: chunked.
 * Resolves { status, headers, text }; rejects on a connection error.
 */
export function rawHttp({ port, method = 'GET', path, headers = {}, chunks = [], timeoutMs = 10_000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/**
 * Opens a raw TCP connection, writes `data` (if any) and collects what comes back.
 * Resolves { received, closed, error, elapsedMs } when the server closes the connection, or —
 * unless untilClose is set — once one complete response (head + Content-Length body) has
 * arrived while the connection stays open (closed is then false). Rejects after timeoutMs.
 */
export function rawTcp(port, data, { timeoutMs = 15_000, untilClose = false } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let error = null;
    let settled = false;
    const finish = (closed) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!closed) socket.destroy();
      resolve({ received: received.toString('latin1'), closed, error, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => {
      settled = true;
      socket.destroy();
      reject(
        new Error(`connection still open after ${timeoutMs} ms; received so far: ${JSON.stringify(received.toString('latin1').slice(0, 300))}`),
      );
    }, timeoutMs);
    socket.on('connect', () => {
      if (data !== undefined && data !== null) socket.write(data);
    });
    socket.on('data', (d) => {
      received = Buffer.concat([received, d]);
      if (!untilClose && completeResponse(received)) finish(false);
    });
    socket.on('error', (err) => {
      error = err; // ECONNRESET etc.: 'close' follows
    });
    socket.on('close', () => finish(true));
  });
}

/** True if buf holds a full HTTP response head and as much body as its Content-Length says. */
export function completeResponse(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
  const length = match ? Number(match[1]) : 0;
  return buf.length >= end + 4 + length;
}

/** The status code of a raw HTTP response text, or null. */
export function statusOf(rawResponse) {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(rawResponse);
  return match ? Number(match[1]) : null;
}
