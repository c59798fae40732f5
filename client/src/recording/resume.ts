// After a reload or a crash: the chunks in browser storage that the server has not confirmed,
// of any room, take or earlier page session, are uploaded again. Each room's chunks go with
// the token this browser holds for that room (transport.ts, authFor: the host's access token,
// or the guest's participant token from tokens.participant(roomId)); the queue first asks
// GET /api/uploads/status which of them the server already has, and drops those.
import type { UploadQueue } from './uploadQueue';

/** Starts uploading what earlier sessions left; resolves once it is all known (not uploaded). */
export async function resumeUploads(queue: Pick<UploadQueue, 'start'>): Promise<void> {
  try {
    await queue.start();
  } catch {
    // Browser storage unreadable: nothing to resume; new recordings still work (from memory).
  }
}

type LeaveTarget = Pick<Window, 'addEventListener' | 'removeEventListener'>;

/**
 * Asks "leave the page?" while isSafe() is false: a chunk is not uploaded yet, a take is
 * recording, or the server has not had a take's completion. Returns the uninstall function.
 */
export function installLeaveGuard(isSafe: () => boolean, target: LeaveTarget | null = typeof window === 'undefined' ? null : window): () => void {
  if (!target) return () => {};
  const guard = (event: BeforeUnloadEvent) => {
    if (isSafe()) return;
    event.preventDefault();
    event.returnValue = ''; // older browsers show the prompt only with this
  };
  target.addEventListener('beforeunload', guard);
  return () => target.removeEventListener('beforeunload', guard);
}
