// The recording database: chunk descriptions, chunk bytes and takes, in IndexedDB.
// Descriptions and bytes are separate stores so that listing thousands of chunks (or changing
// one's state) never reads or rewrites megabytes of media.

export const DB_NAME = 'zencast-recording';
const DB_VERSION = 1;

export const CHUNKS = 'chunks';
export const BLOBS = 'blobs';
export const TAKES = 'takes';

export function openRecordingDb(factory: IDBFactory = indexedDB, name = DB_NAME): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore(CHUNKS, { keyPath: ['roomId', 'takeId', 'participantId', 'index'] });
      db.createObjectStore(BLOBS);
      db.createObjectStore(TAKES, { keyPath: ['roomId', 'takeId', 'participantId'] });
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab upgrading the schema must not wait for this one forever.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('the recording database is held open by an older tab'));
  });
}

export function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Resolves once the transaction is committed; rejects with its error when it fails or aborts. */
export function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
  });
}

/**
 * A read-write transaction that is on disk when it completes ('strict': flushed, so a chunk
 * survives an OS crash or power loss, not only a tab crash).
 */
export function writeTransaction(db: IDBDatabase, stores: string[]): IDBTransaction {
  return db.transaction(stores, 'readwrite', { durability: 'strict' });
}
