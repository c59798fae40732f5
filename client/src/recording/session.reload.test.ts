// A participant's page reloaded in the middle of a take: the new page (a new session over the
// same IndexedDB) records the same take again, its chunk indexes going on from the old ones.
import 'fake-indexeddb/auto';
import { configureStore } from '@reduxjs/toolkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ChunkStore } from './chunkStore';
import { ServerClock } from './clock';
import type { Connectivity } from './connectivity';
import { openRecordingDb } from './idb';
import type { MediaRecorderClass } from './recorder';
import { recordingReducer } from './recordingSlice';
import { resumeUploads } from './resume';
import { createRecordingSession, type RecordingSession, type SessionDeps, type TakeInfo } from './session';
import { TakeStore } from './takeStore';
import { FakeMediaRecorder, FakeUploadServer, ME, ROOM, settle, TAKE, until } from './testSupport';
import { UploadQueue } from './uploadQueue';

const OFFSET = 2500;
const cameraAndMic = { getVideoTracks: () => [{}], getAudioTracks: () => [{}], getTracks: () => [] } as unknown as MediaStream;
const storage = { estimate: async () => ({ usage: 0, quota: 50 * 1024 ** 3 }), persist: async () => true, persisted: async () => false };
const last = () => FakeMediaRecorder.instances.at(-1)!;

let now: number;
let clock: ServerClock;
let server: FakeUploadServer;
let dbName: string;
let dbCount = 0;
const pages: Page[] = [];

interface Page {
  session: RecordingSession;
  queue: UploadQueue;
  chunks: ChunkStore;
  state: () => ReturnType<typeof recordingReducer>;
}

interface Switch {
  value: boolean;
  set?: (value: boolean) => void;
}

/** Switchable connectivity, to hold a page's uploads back: online.set(false) tells its queue. */
function connectivity(online: Switch): Connectivity {
  const listeners = new Set<(value: boolean) => void>();
  online.set = (value) => {
    online.value = value;
    for (const listener of listeners) listener(value);
  };
  return {
    isOnline: () => online.value,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** A page load: its own stores, queue and session over the same database; earlier uploads resume. */
async function openPage(options: { online?: Switch; transport?: SessionDeps['transport'] } = {}): Promise<Page> {
  const db = await openRecordingDb(indexedDB, dbName);
  const chunks = new ChunkStore(db);
  const takes = new TakeStore(db);
  const queue = new UploadQueue({ chunks, takes, transport: server, random: () => 0, connectivity: connectivity(options.online ?? { value: true }) });
  const appStore = configureStore({ reducer: { recording: recordingReducer } });
  const session = createRecordingSession({
    chunks,
    takes,
    queue,
    transport: 'transport' in options ? options.transport : server,
    clock: { localNow: () => now, toServerTime: (t) => clock.toServerTime(t), serverNow: () => clock.serverNow() },
    dispatch: appStore.dispatch,
    MediaRecorder: FakeMediaRecorder as unknown as MediaRecorderClass,
    storage,
  });
  void resumeUploads(queue);
  const page = { session, queue, chunks, state: () => appStore.getState().recording };
  pages.push(page);
  return page;
}

const take = (startAt: number): TakeInfo => ({ roomId: ROOM, participantId: ME, role: 'guest', takeId: TAKE, startAt });

beforeEach(() => {
  FakeMediaRecorder.instances = [];
  FakeMediaRecorder.beforeStart = () => {};
  now = 5_000_000;
  clock = new ServerClock(() => now);
  clock.onPong({ clientTime: now - 4, serverReceiveTime: now - 2 + OFFSET, serverSendTime: now - 2 + OFFSET }, now);
  server = new FakeUploadServer();
  server.startTake(ROOM, TAKE);
  dbName = `reload-${++dbCount}`;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
});

afterEach(() => {
  for (const page of pages.splice(0)) page.queue.dispose();
  vi.useRealTimers();
});

async function runClockUntil(condition: () => boolean, maxMs = 120_000): Promise<void> {
  for (let waited = 0; waited <= maxMs; waited += 100) {
    await settle();
    await vi.advanceTimersByTimeAsync(0);
    await settle();
    if (condition()) return;
    now += 100;
    await vi.advanceTimersByTimeAsync(100);
  }
  throw new Error('the condition never held');
}

async function startRecording(page: Page, startAt: number): Promise<void> {
  const started = page.session.start(take(startAt), { stream: cameraAndMic });
  await runClockUntil(() => page.state().phase === 'recording');
  await started;
}

const opsOn = (op: string, index: number) => server.calls.filter((c) => c.op === op && c.index === index).length;

describe('a take interrupted by a reload', () => {
  it('goes on with the same take: contiguous indexes, a start time of its own, old chunks uploaded, one complete with the total', async () => {
    const online: Switch = { value: true };
    const before = await openPage({ online });
    const startAt = now + OFFSET;
    await startRecording(before, startAt);
    now += 10_000;
    last().deliver(3000); // chunk 0: uploaded
    await until(() => server.storedIndexes(ROOM, TAKE).length === 1, 'chunk 0 uploaded');
    online.set?.(false); // chunk 1 stays in browser storage only
    now += 10_000;
    last().deliver(3000);
    await until(() => before.state().chunksRecorded === 2, 'chunk 1 stored');
    vi.spyOn(before.chunks, 'put').mockReturnValueOnce(new Promise(() => {})); // the reload cuts chunk 2's write
    now += 10_000;
    last().deliver(3000);
    await settle();

    now += 4_000; // the reload: the old page and its uploads are gone
    before.queue.dispose();
    const after = await openPage();
    const resumedAt = now + 700;
    FakeMediaRecorder.beforeStart = () => (now = resumedAt);
    await startRecording(after, startAt);
    expect(FakeMediaRecorder.instances).toHaveLength(2);
    expect(after.state()).toMatchObject({ phase: 'recording', startedAt: resumedAt + OFFSET });

    now += 10_000;
    last().deliver(3000); // the new run's first chunk: index 2, after chunk 1, the last one stored
    await until(() => server.storedIndexes(ROOM, TAKE).includes(2), 'chunk 2 uploaded');
    expect(server.chunks.get(`${ROOM}/${TAKE}/2`)?.mediaStartMs).toBe(resumedAt + OFFSET);
    await until(() => server.storedIndexes(ROOM, TAKE).includes(1), 'chunk 1 (of before the reload) uploaded');

    server.setTakeStatus(ROOM, 'stopped');
    const stopping = after.session.stop({ takeId: TAKE, stopAt: now + 3000 + OFFSET });
    await runClockUntil(() => after.state().phase === 'idle');
    await stopping;
    await until(() => server.completes.length === 1, 'complete');
    await runClockUntil(() => after.session.safeToLeave(), 5000);

    expect(server.storedIndexes(ROOM, TAKE)).toEqual([0, 1, 2, 3]);
    expect(server.completes).toEqual([{ roomId: ROOM, chunkCount: 4 }]);
    expect(server.chunks.get(`${ROOM}/${TAKE}/3`)?.mediaStartMs).toBe(resumedAt + 10_000 + OFFSET);
    for (const index of [0, 1, 2, 3]) {
      expect(opsOn('put', index), `PUTs of chunk ${index}`).toBe(1);
      expect(opsOn('confirm', index), `confirms of chunk ${index}`).toBe(1);
    }
    expect(await after.chunks.listUnconfirmed()).toEqual([]);
    expect(after.state()).toMatchObject({ chunksRecorded: 4, problem: null });
  });

  it('goes on after the chunks stored here even when the server cannot be asked', async () => {
    const before = await openPage();
    const startAt = now + OFFSET;
    await startRecording(before, startAt);
    for (let i = 0; i < 2; i++) {
      now += 10_000;
      last().deliver(3000);
    }
    await until(() => server.storedIndexes(ROOM, TAKE).length === 2, 'chunks 0 and 1 uploaded');
    for (let i = 0; i < 20 && (await before.chunks.listUnconfirmed()).length > 0; i++) await settle();
    expect(await before.chunks.listUnconfirmed()).toEqual([]); // only the take record knows of them

    const after = await openPage({ transport: { status: () => Promise.reject(new TypeError('Failed to fetch')) } });
    await startRecording(after, startAt);
    now += 10_000;
    last().deliver(3000);
    await until(() => server.storedIndexes(ROOM, TAKE).includes(2), 'the new run uploads index 2');
    expect(server.storedIndexes(ROOM, TAKE)).toEqual([0, 1, 2]);
  });
});
