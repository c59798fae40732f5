// Recorded chunks in browser storage until the server has confirmed them.
//
// The rules that make sure no recording is lost:
// - a chunk is written, and the write committed, before it is uploaded (put() resolves after
//   the transaction's commit);
// - a chunk is deleted only after the server confirmed it (delete() is called by the upload
//   queue after confirm, or when the server's status lists it as stored);
// - listUnconfirmed() returns every chunk still here, of every room, take and earlier page
//   session, so a reload or a crash resumes where it stopped.
// When the browser's storage is full, put() throws StorageFullError; the caller may then keep
// the chunk in memory (keepInMemory) so that it is still uploaded while the page stays open.
import { BLOBS, CHUNKS, committed, openRecordingDb, requestResult, writeTransaction } from './idb';
import { chunkKey, takeKey, type ChunkMeta, type ChunkRecord, type ChunkRef, type Failure } from './types';

export class StorageFullError extends Error {
  readonly code = 'storage_full';
  constructor(readonly cause: unknown) {
    super(
      'Browser storage is full: this chunk could not be saved on this device. Free some disk space; ' +
        'until then chunks are kept in memory and are lost if this tab closes before they are uploaded.',
    );
    this.name = 'StorageFullError';
  }
}

/** QuotaExceededError, also as older browsers and wrapped transaction errors report it. */
export function isQuotaError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === 'QuotaExceededError' || code === 22;
}

type IdbKey = [string, string, string, number];
const keyOf = (c: ChunkRef): IdbKey => [c.roomId, c.takeId, c.participantId, c.index];

function metaOf(record: ChunkRecord): ChunkMeta {
  const { blob: _blob, ...meta } = record;
  return meta;
}

function byAge(a: ChunkMeta, b: ChunkMeta): number {
  return a.createdAt - b.createdAt || takeKey(a).localeCompare(takeKey(b)) || a.index - b.index;
}

export class ChunkStore {
  /** Chunks that did not fit in browser storage: uploaded from memory, lost with the tab. */
  private readonly memory = new Map<string, ChunkRecord>();

  private readonly db: Promise<IDBDatabase | null>;

  /** db null: a store in memory only (IndexedDB unavailable, e.g. some private windows). */
  constructor(db: IDBDatabase | null | Promise<IDBDatabase | null>) {
    this.db = Promise.resolve(db);
  }

  static async open(factory?: IDBFactory, name?: string): Promise<ChunkStore> {
    return new ChunkStore(await openRecordingDb(factory, name));
  }

  /** Stores the chunk and its bytes in one committed transaction. Throws StorageFullError. */
  async put(record: ChunkRecord): Promise<void> {
    const db = await this.db;
    if (!db) {
      this.keepInMemory(record);
      return;
    }
    try {
      const tx = writeTransaction(db, [CHUNKS, BLOBS]);
      const done = committed(tx);
      tx.objectStore(BLOBS).put(record.blob, keyOf(record));
      tx.objectStore(CHUNKS).put(metaOf(record));
      await done;
    } catch (error) {
      if (isQuotaError(error)) throw new StorageFullError(error);
      throw error;
    }
  }

  keepInMemory(record: ChunkRecord): void {
    this.memory.set(chunkKey(record), record);
  }

  /** Every chunk the server has not confirmed yet (pending and failed), oldest first. */
  async listUnconfirmed(): Promise<ChunkMeta[]> {
    const db = await this.db;
    const stored = db ? await requestResult(db.transaction(CHUNKS).objectStore(CHUNKS).getAll()) : [];
    const inMemory = [...this.memory.values()].map(metaOf);
    return [...(stored as ChunkMeta[]), ...inMemory].sort(byAge);
  }

  async getMeta(ref: ChunkRef): Promise<ChunkMeta | null> {
    const inMemory = this.memory.get(chunkKey(ref));
    if (inMemory) return metaOf(inMemory);
    const db = await this.db;
    if (!db) return null;
    const meta = await requestResult(db.transaction(CHUNKS).objectStore(CHUNKS).get(keyOf(ref)));
    return (meta as ChunkMeta | undefined) ?? null;
  }

  async getBlob(ref: ChunkRef): Promise<Blob | null> {
    const inMemory = this.memory.get(chunkKey(ref));
    if (inMemory) return inMemory.blob;
    const db = await this.db;
    if (!db) return null;
    const blob = await requestResult(db.transaction(BLOBS).objectStore(BLOBS).get(keyOf(ref)));
    return (blob as Blob | undefined) ?? null;
  }

  async setSha256(ref: ChunkRef, sha256: string): Promise<void> {
    await this.updateMeta(ref, (meta) => ({ ...meta, sha256 }));
  }

  async markFailed(ref: ChunkRef, failure: Failure): Promise<void> {
    await this.updateMeta(ref, (meta) => ({ ...meta, state: 'failed', failure }));
  }

  async markPending(ref: ChunkRef): Promise<void> {
    await this.updateMeta(ref, ({ failure: _failure, ...meta }) => ({ ...meta, state: 'pending' }));
  }

  /** Only once the server has confirmed the chunk. */
  async delete(ref: ChunkRef): Promise<void> {
    this.memory.delete(chunkKey(ref));
    const db = await this.db;
    if (!db) return;
    const tx = writeTransaction(db, [CHUNKS, BLOBS]);
    const done = committed(tx);
    tx.objectStore(CHUNKS).delete(keyOf(ref));
    tx.objectStore(BLOBS).delete(keyOf(ref));
    await done;
  }

  close(): void {
    void this.db.then((db) => db?.close());
  }

  private async updateMeta(ref: ChunkRef, change: (meta: ChunkMeta) => ChunkMeta): Promise<void> {
    const inMemory = this.memory.get(chunkKey(ref));
    if (inMemory) {
      this.memory.set(chunkKey(ref), { ...change(metaOf(inMemory)), blob: inMemory.blob });
      return;
    }
    const db = await this.db;
    if (!db) return;
    const tx = writeTransaction(db, [CHUNKS]);
    const done = committed(tx);
    const store = tx.objectStore(CHUNKS);
    const read = store.get(keyOf(ref));
    read.onsuccess = () => {
      const meta = read.result as ChunkMeta | undefined;
      if (meta) store.put(change(meta));
    };
    await done;
  }
}
