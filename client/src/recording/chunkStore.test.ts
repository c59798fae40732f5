import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { ChunkStore, StorageFullError } from './chunkStore';
import { openRecordingDb } from './idb';
import { sha256Hex } from './hash';
import { assessStorage, checkStorage, requestPersistentStorage } from './storageHealth';
import { TakeStore } from './takeStore';
import { makeChunk } from './testSupport';

let dbCount = 0;
const freshName = () => `zencast-test-${++dbCount}`;

describe('ChunkStore', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes a chunk and reads back its description and bytes', async () => {
    const store = await ChunkStore.open(indexedDB, freshName());
    const chunk = await makeChunk(0, { size: 3000 });
    await store.put(chunk);

    const { blob: _blob, ...meta } = chunk;
    expect(await store.getMeta(chunk)).toEqual(meta);
    const blob = await store.getBlob(chunk);
    expect(blob?.size).toBe(3000);
    expect(await sha256Hex(blob!)).toBe(chunk.sha256);
  });

  it('lists every unconfirmed chunk across rooms and takes, oldest first, without their bytes', async () => {
    const store = await ChunkStore.open(indexedDB, freshName());
    const otherRoom = '11111111-2222-4333-8444-555555555555';
    const earlierTake = '99999999-8888-4777-8666-555555555555';
    await store.put(await makeChunk(1, { createdAt: 30 }));
    await store.put(await makeChunk(0, { createdAt: 20 }));
    await store.put(await makeChunk(4, { roomId: otherRoom, role: 'guest', createdAt: 10 }));
    await store.put(await makeChunk(7, { takeId: earlierTake, createdAt: 5 }));

    const listed = await store.listUnconfirmed();
    expect(listed.map((c) => [c.roomId === otherRoom ? 'other' : 'room', c.takeId === earlierTake ? 'earlier' : 'take', c.index])).toEqual([
      ['room', 'earlier', 7],
      ['other', 'take', 4],
      ['room', 'take', 0],
      ['room', 'take', 1],
    ]);
    expect(listed.every((c) => !('blob' in c))).toBe(true);
  });

  it('survives a reload: a new store on the same database finds the chunks and their bytes', async () => {
    const name = freshName();
    const first = await ChunkStore.open(indexedDB, name);
    await first.put(await makeChunk(0));
    await first.put(await makeChunk(1));
    first.close();

    const second = await ChunkStore.open(indexedDB, name);
    const listed = await second.listUnconfirmed();
    expect(listed.map((c) => c.index)).toEqual([0, 1]);
    expect((await second.getBlob(listed[1]))?.size).toBe(1000);
  });

  it('deletes a chunk (after its confirm) with its bytes', async () => {
    const store = await ChunkStore.open(indexedDB, freshName());
    const chunk = await makeChunk(0);
    await store.put(chunk);
    await store.put(await makeChunk(1));
    await store.delete(chunk);

    expect((await store.listUnconfirmed()).map((c) => c.index)).toEqual([1]);
    expect(await store.getBlob(chunk)).toBeNull();
  });

  it('marks a chunk failed with its reason, and pending again', async () => {
    const name = freshName();
    const store = await ChunkStore.open(indexedDB, name);
    const chunk = await makeChunk(0);
    await store.put(chunk);
    await store.markFailed(chunk, { code: 'conflict', message: 'another chunk' });

    const reopened = await ChunkStore.open(indexedDB, name);
    expect(await reopened.getMeta(chunk)).toMatchObject({ state: 'failed', failure: { code: 'conflict' } });
    await reopened.markPending(chunk);
    const meta = await reopened.getMeta(chunk);
    expect(meta?.state).toBe('pending');
    expect(meta?.failure).toBeUndefined();
  });

  it('surfaces a full disk as StorageFullError and stores nothing', async () => {
    const store = await ChunkStore.open(indexedDB, freshName());
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementationOnce(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const chunk = await makeChunk(0);

    const error = await store.put(chunk).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as StorageFullError).code).toBe('storage_full');
    expect((error as Error).message).toMatch(/storage is full/i);
    expect(await store.listUnconfirmed()).toEqual([]);
  });

  it('keeps a chunk that did not fit in memory, listed and readable like the others', async () => {
    const store = await ChunkStore.open(indexedDB, freshName());
    const chunk = await makeChunk(0);
    store.keepInMemory(chunk);

    expect((await store.listUnconfirmed()).map((c) => c.index)).toEqual([0]);
    expect(await store.getBlob(chunk)).toBe(chunk.blob);
    await store.delete(chunk);
    expect(await store.listUnconfirmed()).toEqual([]);
  });

  it('holds many chunks of a few MB', async () => {
    const store = await ChunkStore.open(indexedDB, freshName());
    for (let i = 0; i < 10; i++) await store.put(await makeChunk(i, { size: 3 * 1024 * 1024 }));
    const listed = await store.listUnconfirmed();
    expect(listed).toHaveLength(10);
    expect(listed.reduce((sum, c) => sum + c.size, 0)).toBe(30 * 1024 * 1024);
  }, 30_000); // fake-indexeddb copies every blob: slow on a busy machine
});

describe('TakeStore', () => {
  it('remembers takes across a reload and forgets them on delete', async () => {
    const name = freshName();
    const db = await openRecordingDb(indexedDB, name);
    const takes = new TakeStore(db);
    const take = { roomId: 'r', takeId: 't', participantId: 'p', role: 'guest' as const, startAt: 5, state: 'recording' as const, chunkCount: null, createdAt: 1 };
    await takes.put(take);
    db.close();

    const again = new TakeStore(await openRecordingDb(indexedDB, name));
    expect(await again.list()).toEqual([take]);
    await again.delete(take);
    expect(await again.get(take)).toBeNull();
  });
});

describe('storage health', () => {
  const GB = 1024 ** 3;

  it('warns below 2 GB free, or below 10 minutes at the current bitrate', () => {
    expect(assessStorage({ usage: 1 * GB, quota: 10 * GB }, 500_000)).toMatchObject({ low: false, availableBytes: 9 * GB });
    expect(assessStorage({ usage: 9 * GB, quota: 10.5 * GB }, 500_000).low).toBe(true);
    // 3 GB free but 10 MB/s: 5 minutes
    expect(assessStorage({ usage: 0, quota: 3 * GB }, 10 * 1024 * 1024)).toMatchObject({ low: true, secondsLeft: 307 });
    expect(assessStorage({}, 500_000)).toMatchObject({ low: false, availableBytes: null });
  });

  it('asks for persistence once, and estimates through the storage manager', async () => {
    const storage = {
      persisted: vi.fn(async () => false),
      persist: vi.fn(async () => true),
      estimate: vi.fn(async () => ({ usage: 0, quota: 100 * GB })),
    };
    expect(await requestPersistentStorage(storage)).toBe(true);
    expect(storage.persist).toHaveBeenCalledOnce();
    expect((await checkStorage(500_000, storage)).low).toBe(false);
    expect(await requestPersistentStorage(null)).toBe(false);
  });
});
