import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ApiError } from '../services/api';
import { ChunkStore } from './chunkStore';
import type { Connectivity } from './connectivity';
import { openRecordingDb } from './idb';
import { TakeStore } from './takeStore';
import { deferred, FakeUploadServer, makeChunk, ME, ROOM, settle, TAKE, until } from './testSupport';
import type { ChunkRecord, TakeRecord } from './types';
import { UploadQueue, type UploadQueueOptions } from './uploadQueue';

function fakeConnectivity(online = true) {
  const listeners = new Set<(online: boolean) => void>();
  const connectivity: Connectivity & { set(online: boolean): void } = {
    isOnline: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(value) {
      online = value;
      for (const listener of listeners) listener(value);
    },
  };
  return connectivity;
}

const TAKE_RECORD: TakeRecord = {
  roomId: ROOM,
  takeId: TAKE,
  participantId: ME,
  role: 'host',
  startAt: 1_764_066_045_004,
  state: 'recording',
  chunkCount: null,
  createdAt: 1,
};

let server: FakeUploadServer;
let chunks: ChunkStore;
let takes: TakeStore;
let queue: UploadQueue;

function newQueue(options: Partial<UploadQueueOptions> = {}): UploadQueue {
  queue = new UploadQueue({ chunks, takes, transport: server, random: () => 0, ...options });
  return queue;
}

async function store(...records: ChunkRecord[]): Promise<void> {
  for (const record of records) await chunks.put(record);
}

async function storedIndexes(): Promise<number[]> {
  return (await chunks.listUnconfirmed()).map((c) => c.index);
}

beforeEach(() => {
  server = new FakeUploadServer();
  server.startTake(ROOM, TAKE);
  chunks = new ChunkStore(null);
  takes = new TakeStore(null);
});

afterEach(() => {
  queue?.dispose();
  vi.useRealTimers();
});

describe('UploadQueue', () => {
  it('uploads in order, at most two at a time: presign, PUT, confirm; then the chunk leaves storage', async () => {
    const gate = deferred();
    server.putGate = () => gate.promise;
    const records = await Promise.all([0, 1, 2, 3, 4].map((i) => makeChunk(i)));
    await store(...records);
    newQueue();
    await queue.start();

    await until(() => server.count('put') === 2, 'two PUTs');
    await settle();
    expect(server.count('put')).toBe(2); // the limit holds
    expect(server.calls.filter((c) => c.op === 'presign').map((c) => c.index)).toEqual([0, 1]);
    expect(await storedIndexes()).toEqual([0, 1, 2, 3, 4]); // nothing confirmed, nothing deleted

    gate.resolve();
    await until(() => server.storedIndexes(ROOM, TAKE).length === 5, 'all stored');
    await until(() => queue.progress().pendingChunks === 0);
    expect(server.maxConcurrentPuts).toBe(2);
    expect(server.calls.filter((c) => c.op === 'presign').map((c) => c.index)).toEqual([0, 1, 2, 3, 4]);
    expect(server.chunks.get(`${ROOM}/${TAKE}/3`)?.mediaStartMs).toBe(records[3].startMs);
    expect(await storedIndexes()).toEqual([]);
    expect(queue.progress().takes[0]).toMatchObject({ uploaded: 5, pending: 0, storedLocally: 0, bytesPending: 0 });
  });

  it('retries network errors and 5xx with growing backoff, and never deletes before the confirm succeeded', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await store(await makeChunk(0));
    server.failNext('presign', new ApiError(503, 'unavailable', 'try again'));
    server.failNext('put', new TypeError('Failed to fetch'));
    server.failNext('confirm', new ApiError(500, 'internal_error', 'oops'));
    newQueue();
    await queue.start();

    // attempt 1 fails at presign; with random() = 0 the waits are 500, 1000, 2000 ms
    await until(() => server.count('presign') === 1);
    await settle();
    await vi.advanceTimersByTimeAsync(499);
    expect(server.count('presign')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => server.count('put') === 1, 'the PUT of attempt 2');
    await settle();
    expect(server.count('presign')).toBe(2);

    await vi.advanceTimersByTimeAsync(999);
    expect(server.count('presign')).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => server.count('confirm') === 1, 'the confirm of attempt 3');
    await settle();
    expect(await storedIndexes()).toEqual([0]); // PUT done, confirm failed: still here

    await vi.advanceTimersByTimeAsync(2000);
    await until(() => server.storedIndexes(ROOM, TAKE).length === 1, 'stored');
    await until(() => queue.progress().pendingChunks === 0);
    expect(await storedIndexes()).toEqual([]);
    expect(server.count('presign')).toBe(4);
  });

  it('doubles the wait up to its cap, with jitter', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    await store(await makeChunk(0));
    server.failNext('presign', new TypeError('Failed to fetch'), 7);
    let jitter = 1;
    newQueue({ backoff: { baseMs: 1000, maxMs: 8000 }, random: () => jitter });
    await queue.start();
    await vi.advanceTimersByTimeAsync(60_000);
    await until(() => queue.progress().pendingChunks === 0);

    const times = server.calls.filter((c) => c.op === 'presign').map((c) => c.at);
    const waits = times.slice(1).map((t, i) => t - times[i]);
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 8000]);

    // random() = 0: half of it
    jitter = 0;
    await store(await makeChunk(1));
    queue.add(await makeChunk(1));
    server.failNext('presign', new TypeError('Failed to fetch'), 4);
    const before = Date.now();
    await vi.advanceTimersByTimeAsync(60_000);
    await until(() => queue.progress().pendingChunks === 0);
    const later = server.calls.filter((c) => c.op === 'presign' && c.index === 1).map((c) => c.at - before);
    expect(later).toEqual([0, 500, 1500, 3500, 7500]);
  });

  it('gives up on errors that can never succeed, keeps the chunk with the reason, and goes on with the others', async () => {
    await store(await makeChunk(0), await makeChunk(1));
    server.failNext('presign', new ApiError(409, 'conflict', 'a different chunk is already stored under this index'));
    newQueue();
    await queue.start();

    await until(() => queue.progress().pendingChunks === 0 && server.storedIndexes(ROOM, TAKE).length === 1);
    expect(server.storedIndexes(ROOM, TAKE)).toEqual([1]);
    expect(server.count('presign')).toBe(2); // no retry of chunk 0
    const [kept] = await chunks.listUnconfirmed();
    expect(kept).toMatchObject({ index: 0, state: 'failed', failure: { code: 'conflict' } });
    expect(queue.progress()).toMatchObject({ failedChunks: 1, pendingChunks: 0 });
    expect(queue.progress().takes[0].failures).toEqual([{ index: 0, code: 'conflict', message: expect.any(String) }]);
  });

  it('asks the server first and drops what it already has, without uploading it again', async () => {
    const records = await Promise.all([0, 1, 2].map((i) => makeChunk(i)));
    await server.accept(records[0]); // the server got 0 and 1 before the reload
    await server.accept(records[1]);

    await store(...records);
    newQueue();
    await queue.start();
    await until(() => queue.progress().pendingChunks === 0);

    expect(server.calls.map((c) => c.op)[0]).toBe('status');
    expect(server.calls.filter((c) => c.op === 'presign').map((c) => c.index)).toEqual([2]);
    expect(await storedIndexes()).toEqual([]);
    expect(queue.progress().takes[0]).toMatchObject({ uploaded: 3, recorded: 3 });
  });

  it('pauses while offline and resumes, asking the server again, when back online', async () => {
    const connectivity = fakeConnectivity(false);
    newQueue({ connectivity });
    await queue.start();
    const chunk = await makeChunk(0);
    await store(chunk);
    queue.add(chunk);
    await settle();
    expect(server.calls).toEqual([]);
    expect(queue.progress()).toMatchObject({ online: false, pendingChunks: 1, safeToLeave: false });

    connectivity.set(true);
    await until(() => queue.progress().pendingChunks === 0);
    expect(server.calls.map((c) => c.op)).toEqual(['status', 'presign', 'put', 'confirm']);

    // Going offline in the middle of an upload is no failed attempt: it waits for the network.
    const next = await makeChunk(1);
    await store(next);
    server.failNext('put', new TypeError('Failed to fetch'));
    const gate = deferred();
    server.putGate = () => gate.promise;
    queue.add(next);
    await until(() => server.count('put') === 2);
    connectivity.set(false);
    gate.resolve();
    await settle();
    expect(server.count('put')).toBe(2);
    server.putGate = null;
    connectivity.set(true);
    await until(() => queue.progress().pendingChunks === 0);
    expect(server.storedIndexes(ROOM, TAKE)).toEqual([0, 1]);
  });

  it('completes the take with its chunk count once the last chunk is confirmed, then it is safe to leave', async () => {
    newQueue();
    await queue.start();
    await queue.takeStarted(TAKE_RECORD);
    expect(queue.safeToLeave).toBe(false);
    const records = await Promise.all([0, 1, 2].map((i) => makeChunk(i)));
    const gate = deferred();
    server.putGate = () => gate.promise;
    for (const r of records) {
      await store(r);
      queue.add(r);
    }
    server.setTakeStatus(ROOM, 'stopped');
    await queue.takeStopped(TAKE_RECORD, 3);
    await settle();
    expect(server.completes).toEqual([]); // not before the last chunk
    expect(queue.progress().takes[0].state).toBe('uploading');

    gate.resolve();
    await queue.whenSafeToLeave();
    expect(server.completes).toEqual([{ roomId: ROOM, chunkCount: 3 }]);
    expect(queue.progress().takes[0]).toMatchObject({ state: 'complete', recorded: 3, uploaded: 3 });
    expect(await takes.list()).toEqual([]);
  });

  it('hashes a chunk that was stored before its hash (a crash in between), and keeps the hash', async () => {
    const chunk = await makeChunk(0);
    await store({ ...chunk, sha256: null });
    newQueue();
    await queue.start();
    await until(() => server.storedIndexes(ROOM, TAKE).length === 1);
    expect(server.chunks.get(`${ROOM}/${TAKE}/0`)?.sha256).toBe(chunk.sha256);
  });

  it('never uploads a chunk of an older take into the newer one', async () => {
    const newer = '0b0b0b0b-0000-4000-8000-000000000000';
    server.startTake(ROOM, newer);
    await store(await makeChunk(0));
    newQueue();
    await queue.start();
    await until(() => queue.progress().failedChunks === 1);

    expect(server.count('presign')).toBe(0);
    expect((await chunks.listUnconfirmed())[0].failure?.code).toBe('take_superseded');
    expect(queue.safeToLeave).toBe(true);
  });

  it('completes a take interrupted by a crash once the server has stopped it, counting what was recorded', async () => {
    await takes.put(TAKE_RECORD); // recording when the page died
    const records = await Promise.all([0, 1].map((i) => makeChunk(i)));
    await store(...records);
    server.setTakeStatus(ROOM, 'stopped');
    newQueue();
    await queue.start();
    await queue.whenSafeToLeave();

    expect(server.completes).toEqual([{ roomId: ROOM, chunkCount: 2 }]);
    expect(await takes.list()).toEqual([]);
  });
});

describe('UploadQueue after a crash', () => {
  it('a new queue on the same browser storage uploads what the crashed one had not confirmed', async () => {
    const name = 'zencast-crash-test';
    chunks = new ChunkStore(await openRecordingDb(indexedDB, name));
    takes = new TakeStore(await openRecordingDb(indexedDB, name));
    const records = await Promise.all([0, 1, 2].map((i) => makeChunk(i)));
    const stuck = deferred();
    server.putGate = () => stuck.promise; // the PUTs never finish: the tab dies meanwhile
    const crashed = newQueue();
    await queue.start();
    for (const r of records) {
      await store(r);
      queue.add(r);
    }
    await until(() => server.count('put') === 2);
    crashed.dispose();
    chunks.close();

    server.putGate = null;
    chunks = new ChunkStore(await openRecordingDb(indexedDB, name));
    expect(await storedIndexes()).toEqual([0, 1, 2]);
    newQueue();
    await queue.start();
    await until(() => queue.progress().pendingChunks === 0);

    expect(server.storedIndexes(ROOM, TAKE)).toEqual([0, 1, 2]);
    expect(await storedIndexes()).toEqual([]);
  });
});
