// The takes this browser recorded whose completion the server has not had yet: after a reload
// they say how many chunks a take had (for POST /api/uploads/complete), and, for a take that
// still records, where its chunk sequence goes on (nextIndex: see takeResume.ts).
import { TAKES, committed, openRecordingDb, requestResult, writeTransaction } from './idb';
import { takeKey, type TakeRecord, type TakeRef } from './types';

const keyOf = (t: TakeRef): [string, string, string] => [t.roomId, t.takeId, t.participantId];

export class TakeStore {
  private readonly memory = new Map<string, TakeRecord>();

  private readonly db: Promise<IDBDatabase | null>;

  /** db null: memory only. */
  constructor(db: IDBDatabase | null | Promise<IDBDatabase | null>) {
    this.db = Promise.resolve(db);
  }

  static async open(factory?: IDBFactory, name?: string): Promise<TakeStore> {
    return new TakeStore(await openRecordingDb(factory, name));
  }

  async put(take: TakeRecord): Promise<void> {
    const db = await this.db;
    if (!db) {
      this.memory.set(takeKey(take), take);
      return;
    }
    const tx = writeTransaction(db, [TAKES]);
    const done = committed(tx);
    tx.objectStore(TAKES).put(take);
    await done;
  }

  async get(ref: TakeRef): Promise<TakeRecord | null> {
    const db = await this.db;
    if (!db) return this.memory.get(takeKey(ref)) ?? null;
    const take = await requestResult(db.transaction(TAKES).objectStore(TAKES).get(keyOf(ref)));
    return (take as TakeRecord | undefined) ?? null;
  }

  async list(): Promise<TakeRecord[]> {
    const db = await this.db;
    if (!db) return [...this.memory.values()];
    return (await requestResult(db.transaction(TAKES).objectStore(TAKES).getAll())) as TakeRecord[];
  }

  async delete(ref: TakeRef): Promise<void> {
    this.memory.delete(takeKey(ref));
    const db = await this.db;
    if (!db) return;
    const tx = writeTransaction(db, [TAKES]);
    const done = committed(tx);
    tx.objectStore(TAKES).delete(keyOf(ref));
    await done;
  }
}
