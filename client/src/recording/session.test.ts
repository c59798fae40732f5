import 'fake-indexeddb/auto';
import { configureStore } from '@reduxjs/toolkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ChunkStore, StorageFullError } from './chunkStore';
import { ServerClock } from './clock';
import type { MediaRecorderClass } from './recorder';
import { recordingReducer } from './recordingSlice';
import { createRecordingSession, type RecordingSession, type TakeInfo, type UploadStatusMessage } from './session';
import { TakeStore } from './takeStore';
import { FakeMediaRecorder, FakeUploadServer, ME, nextTurn, ROOM, settle, TAKE, until } from './testSupport';
import { UploadQueue } from './uploadQueue';

const OFFSET = 2500;
const cameraAndMic = { getVideoTracks: () => [{}], getAudioTracks: () => [{}], getTracks: () => [] } as unknown as MediaStream;
const last = () => FakeMediaRecorder.instances.at(-1)!;

let now: number;
let server: FakeUploadServer;
let chunks: ChunkStore;
let takes: TakeStore;
let queue: UploadQueue;
let appStore: ReturnType<typeof makeStore>;
let session: RecordingSession;

const makeStore = () => configureStore({ reducer: { recording: recordingReducer } });
const state = () => appStore.getState().recording;

function take(startIn = 3000): TakeInfo {
  return { roomId: ROOM, participantId: ME, role: 'guest', takeId: TAKE, startAt: now + OFFSET + startIn };
}

beforeEach(() => {
  FakeMediaRecorder.instances = [];
  FakeMediaRecorder.beforeStart = () => {};
  now = 5_000_000;
  const clock = new ServerClock(() => now);
  clock.onPong({ clientTime: now - 4, serverReceiveTime: now - 2 + OFFSET, serverSendTime: now - 2 + OFFSET }, now);
  server = new FakeUploadServer();
  server.startTake(ROOM, TAKE);
  chunks = new ChunkStore(null);
  takes = new TakeStore(null);
  queue = new UploadQueue({ chunks, takes, transport: server, random: () => 0 });
  appStore = makeStore();
  const storage = { estimate: async () => ({ usage: 0, quota: 50 * 1024 ** 3 }), persist: async () => true, persisted: async () => false };
  session = createRecordingSession({
    chunks,
    takes,
    queue,
    clock: { localNow: () => now, toServerTime: (t) => clock.toServerTime(t), serverNow: () => clock.serverNow() },
    dispatch: appStore.dispatch,
    MediaRecorder: FakeMediaRecorder as unknown as MediaRecorderClass,
    storage,
  });
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
});

afterEach(() => {
  queue.dispose();
  vi.useRealTimers();
});

/** Lets fake time pass, the local clock with it, in steps of 100 ms until condition() holds. */
async function runClockUntil(condition: () => boolean, maxMs = 120_000): Promise<void> {
  for (let waited = 0; waited <= maxMs; waited += 100) {
    await settle();
    await vi.advanceTimersByTimeAsync(0); // what is due now runs before the clock moves on
    await settle();
    if (condition()) return;
    now += 100;
    await vi.advanceTimersByTimeAsync(100);
  }
  throw new Error('the condition never held');
}

describe('the recording session', () => {
  it('records a take at the server instant, stores and uploads each chunk, and completes it at the stop', async () => {
    const sent: UploadStatusMessage[] = [];
    session.onUploadStatus((message) => sent.push(message));
    const info = take(3000);
    const started = session.start(info, { stream: cameraAndMic });
    await settle();
    expect(state()).toMatchObject({ phase: 'countdown', takeId: TAKE, startAt: info.startAt });
    expect(FakeMediaRecorder.instances).toEqual([]);

    await runClockUntil(() => state().phase === 'recording');
    await started;
    expect(state()).toMatchObject({ phase: 'recording', startedAt: info.startAt, mimeType: 'video/webm;codecs=vp9,opus' });
    expect(state().storage).toMatchObject({ low: false });
    expect(state().persistentStorage).toBe(true);

    now += 10_000;
    last().deliver(3000);
    await until(() => server.storedIndexes(ROOM, TAKE).length === 1, 'chunk 0 uploaded');
    expect(server.chunks.get(`${ROOM}/${TAKE}/0`)?.mediaStartMs).toBe(info.startAt);
    expect(state().uploads.takes[0]).toMatchObject({ state: 'recording', uploaded: 1, recorded: 1 });

    now += 5_000;
    server.setTakeStatus(ROOM, 'stopped');
    const stopping = session.stop({ takeId: TAKE, stopAt: now + OFFSET });
    await runClockUntil(() => state().phase === 'idle');
    await stopping;
    expect(state()).toMatchObject({ phase: 'idle', chunksRecorded: 2 });
    await until(() => server.completes.length === 1, 'complete');
    expect(server.completes).toEqual([{ roomId: ROOM, chunkCount: 2 }]);
    expect(server.chunks.get(`${ROOM}/${TAKE}/1`)?.mediaStartMs).toBe(info.startAt + 10_000);
    await until(() => state().uploads.safeToLeave);
    expect(session.safeToLeave()).toBe(true);
    expect(state().uploads.takes[0]).toMatchObject({ state: 'complete', uploaded: 2 });

    await vi.advanceTimersByTimeAsync(2000);
    expect(sent.at(-1)).toEqual({ type: 'upload-status', recorded: 2, uploaded: 2 });
    const times = sent.length;
    expect(times).toBeLessThanOrEqual(4); // at most once a second, only on changes
  });

  it('keeps a chunk that does not fit in storage in memory, uploads it, and says so', async () => {
    vi.spyOn(chunks, 'put').mockRejectedValueOnce(new StorageFullError(new DOMException('full', 'QuotaExceededError')));
    await startNow();
    last().deliver(2000);
    await until(() => server.storedIndexes(ROOM, TAKE).length === 1, 'uploaded from memory');
    expect(state().problem).toMatchObject({ code: 'storage_full', message: expect.stringMatching(/storage is full/) });
  });

  it('starts one recorder when joined.recording and recording.started announce the same take', async () => {
    const first = session.start(take(1000), { stream: cameraAndMic });
    const second = session.start(take(1000), { stream: cameraAndMic });
    await runClockUntil(() => state().phase === 'recording');
    await Promise.all([first, second]);
    expect(FakeMediaRecorder.instances).toHaveLength(1);
    await expect(session.start({ ...take(), takeId: 'another' }, { stream: cameraAndMic })).rejects.toMatchObject({ code: 'already_recording' });
  });

  it('records again a take this browser had started before a reload, going on from its chunk sequence', async () => {
    await takes.put({ ...take(), state: 'recording', chunkCount: null, createdAt: 1, nextIndex: 3 });
    await startNow();
    last().deliver(2000);
    await until(() => server.storedIndexes(ROOM, TAKE).length === 1, 'uploaded');
    expect(server.storedIndexes(ROOM, TAKE)).toEqual([3]);
    expect(state()).toMatchObject({ phase: 'recording', chunksRecorded: 4, problem: null });
  });

  it('a stop during the countdown records nothing and declares nothing', async () => {
    const started = session.start(take(60_000), { stream: cameraAndMic });
    await settle();
    await session.stop({ takeId: TAKE });
    await runClockUntil(() => false, 2000).catch(() => {});
    await started;
    expect(FakeMediaRecorder.instances).toEqual([]);
    expect(server.completes).toEqual([]);
    expect(state().phase).toBe('idle');
    expect(session.safeToLeave()).toBe(true);
  });
});

async function startNow(): Promise<void> {
  const started = session.start(take(0), { stream: cameraAndMic });
  await runClockUntil(() => state().phase === 'recording');
  await started;
  await nextTurn();
}
