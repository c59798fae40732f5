import type { RecordingDetail } from '../../services/types';

export const POLL_MIN_MS = 1_000;
export const POLL_MAX_MS = 10_000;

/** Something on the page is still changing: a take records, uploads arrive, a render runs. */
export function isChanging(recording: RecordingDetail): boolean {
  if (recording.render && (recording.render.status === 'queued' || recording.render.status === 'running')) return true;
  return recording.takes.some((take) => take.status !== 'complete');
}

/** Wait longer each time nothing moved; start over as soon as something did. */
export function nextDelay(previousMs: number, moved: boolean): number {
  return moved ? POLL_MIN_MS : Math.min(Math.round(previousMs * 1.6), POLL_MAX_MS);
}

/** A fingerprint of what progresses, to tell whether a poll saw anything move. */
export function progressKey(recording: RecordingDetail): string {
  const render = recording.render;
  const uploads = recording.takes.map((t) => t.participants.map((p) => `${p.chunksStored}/${p.chunkCount}`).join(',')).join(';');
  return `${recording.status}|${render?.id}|${render?.status}|${render?.progress}|${render?.stage}|${uploads}`;
}
