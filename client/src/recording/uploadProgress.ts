// What the UI and the WebSocket upload-status message see of the upload queue.
import type { ChunkMeta, Failure, TakeRef } from './types';

export type TakeUploadState =
  | 'recording' // this page records it
  | 'uploading' // chunks are waiting or on their way
  | 'completing' // all sent; telling the server how many chunks there are
  | 'complete' // the server has every chunk and knows the count
  | 'incomplete' // done, but chunks are missing or failed (see failures, missing)
  | 'superseded'; // a newer take started before this one was finished: the server takes no more of it

export interface TakeProgress extends TakeRef {
  /** Chunks recorded: uploaded + storedLocally (or the take's chunk count when larger). */
  recorded: number;
  /** Chunks the server has confirmed. */
  uploaded: number;
  /** Chunks in browser storage (not confirmed): pending + failed. */
  storedLocally: number;
  /** Waiting for upload or uploading. */
  pending: number;
  uploading: number;
  failed: number;
  bytesPending: number;
  state: TakeUploadState;
  failures: Array<Failure & { index: number }>;
  /** Indexes the server reported missing when the take was completed. */
  missing: number[];
}

export interface UploadProgress {
  online: boolean;
  pendingChunks: number;
  failedChunks: number;
  bytesPending: number;
  /** Nothing is lost by closing the page now (see UploadQueue.safeToLeave). */
  safeToLeave: boolean;
  takes: TakeProgress[];
}

export interface ChunkView {
  meta: ChunkMeta;
  uploading: boolean;
}

export interface TakeView {
  ref: TakeRef;
  chunks: ChunkView[];
  uploaded: number;
  chunkCount: number | null;
  recording: boolean;
  completing: boolean;
  done: { state: 'complete' | 'incomplete' | 'superseded'; missing: number[] } | null;
}

export function takeProgress(view: TakeView): TakeProgress {
  const failedChunks = view.chunks.filter((c) => c.meta.state === 'failed');
  const pendingChunks = view.chunks.filter((c) => c.meta.state !== 'failed');
  const storedLocally = view.chunks.length;
  const pending = pendingChunks.length;
  return {
    ...view.ref,
    recorded: Math.max(view.uploaded + storedLocally, view.chunkCount ?? 0),
    uploaded: view.uploaded,
    storedLocally,
    pending,
    uploading: pendingChunks.filter((c) => c.uploading).length,
    failed: failedChunks.length,
    bytesPending: pendingChunks.reduce((sum, c) => sum + c.meta.size, 0),
    state: stateOf(view, pending, failedChunks.length),
    failures: failedChunks.map((c) => ({ index: c.meta.index, code: c.meta.failure?.code ?? 'failed', message: c.meta.failure?.message ?? '' })),
    missing: view.done?.missing ?? [],
  };
}

function stateOf(view: TakeView, pending: number, failed: number): TakeUploadState {
  if (view.recording) return 'recording';
  if (view.done) return view.done.state === 'complete' && failed > 0 ? 'incomplete' : view.done.state;
  if (pending > 0) return 'uploading';
  return view.completing ? 'completing' : 'uploading';
}

/** The WebSocket message (docs/protocol.md, "Upload status"): chunks recorded and uploaded. */
export function uploadStatusMessage(take: TakeProgress): { type: 'upload-status'; recorded: number; uploaded: number } {
  const clamp = (n: number) => Math.min(100_000, Math.max(0, n));
  const recorded = clamp(take.recorded);
  return { type: 'upload-status', recorded, uploaded: Math.min(recorded, clamp(take.uploaded)) };
}
