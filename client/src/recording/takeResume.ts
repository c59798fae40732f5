// A take this browser had begun recording before a reload or a crash, and that the server still
// records: the new recorder goes on with the participant's chunk sequence. Its first index is
// one past the highest this browser ever stored for the take, which is the highest of:
// - the chunks still in browser storage (not confirmed yet),
// - the take record's nextIndex (kept up to date as chunks are stored: covers the chunks that
//   were confirmed and deleted since, even when the server cannot be asked now),
// - the indexes the server has stored (GET /api/uploads/status).
// A chunk the recorder had not handed over, or that never reached storage, is simply not
// counted: the indexes stay contiguous (complete declares 0..n-1), the new run just starts later.
import type { ChunkStore } from './chunkStore';
import { authFor, type UploadTransport } from './transport';
import { takeKey, type Role, type TakeRecord, type TakeRef } from './types';

export interface ResumeSources {
  chunks: Pick<ChunkStore, 'listUnconfirmed'>;
  transport?: Pick<UploadTransport, 'status'>;
  /** How long to wait for the server's answer before going on with what is known here. */
  statusTimeoutMs?: number;
}

const STATUS_TIMEOUT_MS = 3000;

/** The index the resumed recording's first chunk gets. */
export async function nextChunkIndex(take: TakeRecord, sources: ResumeSources): Promise<number> {
  const [stored, onServer] = await Promise.all([storedIndexes(take, sources), serverIndexes(take, sources)]);
  return Math.max(take.nextIndex ?? 0, ...stored.map((i) => i + 1), ...onServer.map((i) => i + 1));
}

async function storedIndexes(take: TakeRef, { chunks }: ResumeSources): Promise<number[]> {
  const all = await chunks.listUnconfirmed().catch(() => []);
  return all.filter((chunk) => takeKey(chunk) === takeKey(take)).map((chunk) => chunk.index);
}

/** [] when the server cannot say in time (offline): the local sources then decide. */
async function serverIndexes(take: TakeRef & { role: Role }, { transport, statusTimeoutMs = STATUS_TIMEOUT_MS }: ResumeSources): Promise<number[]> {
  if (!transport) return [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), statusTimeoutMs)));
  try {
    const status = await Promise.race([transport.status(authFor(take.role, take.roomId), take.roomId), timeout]);
    // Not `pending`: a presigned chunk not in storage here was lost, and its index may be reused.
    return status && status.takeId === take.takeId ? status.chunks : [];
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}
