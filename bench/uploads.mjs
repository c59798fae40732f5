#!/usr/bin/env node
// PUT throughput of media chunks, on loopback (issue 4). Prints one JSON line per run:
//   {"name":"zencast","chunks":40,"bytes":209715200,"seconds":1.23,"mbPerSecond":170.5}
//
//   node bench/uploads.mjs zencast http://127.0.0.1:PORT
//       registers a host, creates a session, joins /ws and starts a take (server started with
//       PUBLIC_URL=http://127.0.0.1:PORT and RECORDING_COUNTDOWN=1s), presigns every chunk
//       (not timed), then times only the PUTs to the signed /storage URLs.
//   node bench/uploads.mjs nginx-webdav http://127.0.0.1:PORT/dav/run1/
//       PUTs the same kind of chunks to PREFIX + chunk-<i>.webm (nginx with dav_methods PUT).
//
// Settings (environment): CHUNKS (40), CHUNK_MB (5, MiB), CONCURRENCY (4), TIMEOUT_S (60: the
// whole run, set-up included, is aborted after that). MB/s here means MiB (2^20 bytes) per second.
// ZENCAST_TOKEN: a host's access token to use instead of registering a new account (a
// registration hashes a password with argon2id, 19 MiB, which would show in the memory numbers).
// WATCH_PID: processes (comma-separated: the server, or nginx's workers) to measure over the
// timed PUTs only: each one's VmHWM is reset (echo 5 > /proc/PID/clear_refs) just before them and
// read right after; the line then also has rssBeforeKiB, peakKiB (the peaks added up),
// rssAfterKiB and cpuSeconds (user + system time they used during the PUTs; CLK_TCK, 100).
// Each run uses fresh random chunks (and, for zencast, a fresh session), so nothing is ever
// "already stored". Uses `ws` from the HTTP test suite; no other dependency.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(fileURLToPath(new URL('../server/tests/http/package.json', import.meta.url)));
let WebSocket;
try {
  WebSocket = require('ws');
} catch {
  console.error('uploads.mjs: needs the `ws` package of the HTTP tests: (cd server/tests/http && npm ci)');
  process.exit(2);
}

const [mode, target] = process.argv.slice(2);
if (!['zencast', 'nginx-webdav'].includes(mode) || !target) {
  console.error('usage: node bench/uploads.mjs zencast BASE_URL | nginx-webdav URL_PREFIX');
  process.exit(2);
}
const CHUNKS = Number(process.env.CHUNKS ?? 40);
const CHUNK_BYTES = Math.round(Number(process.env.CHUNK_MB ?? 5) * 1024 * 1024);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);
const TIMEOUT_S = Number(process.env.TIMEOUT_S ?? 60);
const CONTENT_TYPE = 'video/webm';

const watchdog = setTimeout(() => {
  console.error(`uploads.mjs: ${mode} did not finish within ${TIMEOUT_S} s`);
  process.exit(3);
}, TIMEOUT_S * 1000);

// One keep-alive agent with as many sockets as concurrent uploads, for both targets.
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** One HTTP request with a Buffer or JSON body; resolves {status, text}. */
function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') {
      reject(new Error(`refusing a non-loopback URL: ${url}`));
      return;
    }
    const h = { ...headers };
    if (body !== undefined) h['Content-Length'] = body.length;
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, agent },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function api(base, method, path, { token, json } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = Buffer.from(JSON.stringify(json));
  }
  const res = await request(base + path, { method, headers, body });
  let parsed = null;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    /* not JSON */
  }
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${method} ${path} -> ${res.status} ${res.text.slice(0, 300)}`);
  }
  return parsed;
}

/** Joins the room as its host over /ws and starts a take; resolves when recording.started came. */
function startTake(base, roomId, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace(/^http/, 'ws') + '/ws', 'zencast.v1');
    const fail = (err) => {
      ws.terminate();
      reject(err);
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'join', roomId, token })));
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === 'joined') ws.send(JSON.stringify({ type: 'recording.start' }));
      else if (msg.type === 'recording.started') resolve(ws);
      else if (msg.type === 'error') fail(new Error(`ws error: ${JSON.stringify(msg)}`));
    });
    ws.on('error', fail);
    ws.on('close', (code) => reject(new Error(`ws closed with ${code} before recording.started`)));
  });
}

/** Runs jobs(i) for i in 0..n-1 with at most `limit` at a time. */
async function pool(n, limit, job) {
  let next = 0;
  const worker = async () => {
    while (next < n) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

// Distinct random chunks, hashed before anything is timed.
const chunks = Array.from({ length: CHUNKS }, () => {
  const data = randomBytes(CHUNK_BYTES);
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
});

// The PUTs to time: [{url, headers, ok: [statuses]}] per chunk.
let puts;
let ws;
if (mode === 'zencast') {
  const base = target.replace(/\/+$/, '');
  const token =
    process.env.ZENCAST_TOKEN ||
    (
      await api(base, 'POST', '/api/auth/register', {
        json: { email: `bench-uploads-${randomUUID()}@example.com`, password: 'benchmark-password', name: 'Bench' },
      })
    ).accessToken;
  const recording = await api(base, 'POST', '/api/recordings', { token, json: { title: 'upload benchmark' } });
  const roomId = recording.recording?.roomId;
  if (!roomId) throw new Error(`no roomId in ${JSON.stringify(recording)}`);
  ws = await startTake(base, roomId, token);
  puts = [];
  for (let i = 0; i < CHUNKS; i++) {
    const p = await api(base, 'POST', '/api/uploads/presign', {
      token,
      json: { roomId, chunkIndex: i, size: CHUNK_BYTES, sha256: chunks[i].sha256, contentType: CONTENT_TYPE },
    });
    if (p.stored !== false || !p.url) throw new Error(`presign ${i}: ${JSON.stringify(p)}`);
    puts.push({ url: p.url, headers: p.headers ?? { 'Content-Type': CONTENT_TYPE }, ok: [201] });
  }
} else {
  const prefix = target.endsWith('/') ? target : target + '/';
  puts = chunks.map((_, i) => ({ url: `${prefix}chunk-${i}.webm`, headers: { 'Content-Type': CONTENT_TYPE }, ok: [201, 204] }));
}

// The processes to watch (the server, or nginx's workers): memory peak and CPU time of the PUTs.
const watchPids = (process.env.WATCH_PID ?? '').split(',').filter(Boolean);
const CLK_TCK = Number(process.env.CLK_TCK ?? 100);
const statusKiB = (pid, field) => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : 0;
};
const cpuTicks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
};
const sum = (f) => watchPids.reduce((total, pid) => total + f(pid), 0);
const memory = {};
let ticksBefore = 0;
if (watchPids.length) {
  for (const pid of watchPids) writeFileSync(`/proc/${pid}/clear_refs`, '5'); // VmHWM := VmRSS
  memory.rssBeforeKiB = sum((pid) => statusKiB(pid, 'VmRSS'));
  ticksBefore = sum(cpuTicks);
}

const started = process.hrtime.bigint();
await pool(CHUNKS, CONCURRENCY, async (i) => {
  const res = await request(puts[i].url, { method: 'PUT', headers: puts[i].headers, body: chunks[i].data });
  if (!puts[i].ok.includes(res.status)) throw new Error(`PUT chunk ${i} -> ${res.status} ${res.text.slice(0, 300)}`);
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
if (watchPids.length) {
  memory.cpuSeconds = Number(((sum(cpuTicks) - ticksBefore) / CLK_TCK).toFixed(2));
  memory.peakKiB = sum((pid) => statusKiB(pid, 'VmHWM')); // of each process, added up
  memory.rssAfterKiB = sum((pid) => statusKiB(pid, 'VmRSS'));
}

const bytes = CHUNKS * CHUNK_BYTES;
console.log(
  JSON.stringify({
    name: mode,
    chunks: CHUNKS,
    bytes,
    seconds: Number(seconds.toFixed(3)),
    mbPerSecond: Number((bytes / 1048576 / seconds).toFixed(1)),
    concurrency: CONCURRENCY,
    ...memory,
  }),
);
ws?.removeAllListeners('close');
ws?.close();
agent.destroy();
clearTimeout(watchdog);
