// Is there room for the recording on this device? Persistent storage (the browser does not
// evict our chunks under pressure) and a "low storage" warning.

/** Warn below this much free space... */
export const LOW_STORAGE_BYTES = 2 * 1024 ** 3;
/** ...or when less than this much recording fits at the current bitrate. */
export const LOW_STORAGE_SECONDS = 10 * 60;

export interface StorageCheck {
  usageBytes: number | null;
  quotaBytes: number | null;
  availableBytes: number | null;
  /** How long the recording can go on at this bitrate before storage is full. */
  secondsLeft: number | null;
  low: boolean;
}

type Storage = Pick<StorageManager, 'estimate' | 'persist' | 'persisted'>;

function browserStorage(): Storage | null {
  return typeof navigator !== 'undefined' && navigator.storage ? navigator.storage : null;
}

/**
 * Asks the browser to keep our data even when the disk runs low (Chromium decides silently,
 * Firefox may ask the user). false when refused or not supported.
 */
export async function requestPersistentStorage(storage: Storage | null = browserStorage()): Promise<boolean> {
  if (!storage?.persist) return false;
  try {
    return (await storage.persisted?.()) || (await storage.persist());
  } catch {
    return false;
  }
}

/** The free space, judged for a recording that writes bytesPerSecond. */
export function assessStorage(estimate: StorageEstimate, bytesPerSecond: number): StorageCheck {
  const { usage, quota } = estimate;
  if (usage === undefined || quota === undefined) {
    return { usageBytes: usage ?? null, quotaBytes: quota ?? null, availableBytes: null, secondsLeft: null, low: false };
  }
  const availableBytes = Math.max(0, quota - usage);
  const secondsLeft = bytesPerSecond > 0 ? Math.floor(availableBytes / bytesPerSecond) : null;
  const low = availableBytes < LOW_STORAGE_BYTES || (secondsLeft !== null && secondsLeft < LOW_STORAGE_SECONDS);
  return { usageBytes: usage, quotaBytes: quota, availableBytes, secondsLeft, low };
}

export async function checkStorage(bytesPerSecond: number, storage: Storage | null = browserStorage()): Promise<StorageCheck> {
  let estimate: StorageEstimate = {};
  try {
    estimate = (await storage?.estimate()) ?? {};
  } catch {
    // unknown: no warning rather than a false one
  }
  return assessStorage(estimate, bytesPerSecond);
}
