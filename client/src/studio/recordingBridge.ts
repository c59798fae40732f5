// The one place where the studio meets the local recorder (src/recording/**, built separately).
// The studio calls the on* functions when the protocol says so; the recorder reports its upload
// progress with publishUploadProgress, which the studio shows and sends to the server as
// `upload-status`. Nothing here knows how recording or uploading works.
//
// Everything below is a placeholder until the recording module is wired in.

import type { Auth } from '../services/api';

export interface RecordingStart {
  roomId: string;
  participantId: string;
  takeId: string;
  /** When to start, on the server's clock (epoch ms): `recording.started.startAt`. */
  startAtServerMs: number;
  /** The server's clock now, from the studio's ping/pong offset (see also onPong in services/socket). */
  serverNow: () => number;
  /** The local camera and microphone, as sent to the call. */
  stream: MediaStream;
  /** The token for the /api/uploads/* routes: the host's access token or this room's participant token. */
  auth: Auth;
}

export interface RecordingStop {
  takeId: string;
  /** When to stop, on the server's clock: `recording.stopped.stopAt`. */
  stopAtServerMs: number;
}

export interface UploadProgress {
  /** Chunks recorded so far in the current take. */
  recorded: number;
  /** Chunks of those uploaded and confirmed; never more than recorded. */
  uploaded: number;
}

/**
 * A take started (`recording.started`) or, after a (re)join, is in progress (`joined.recording`).
 * It may come again with the same takeId after a reconnect, and startAtServerMs may already be
 * in the past for someone who joined late.
 */
export function onRecordingStarted(start: RecordingStart): void {
  // TODO(recording): start a MediaRecorder on start.stream when start.serverNow() reaches
  // start.startAtServerMs; record in chunks, store them locally and upload them for
  // start.takeId with start.auth. Ignore a repeat for a takeId already being recorded.
  void start;
}

/** The take stopped (`recording.stopped`). */
export function onRecordingStopped(stop: RecordingStop): void {
  // TODO(recording): stop the recorder when the server clock reaches stop.stopAtServerMs, flush
  // the last chunk, finish uploading and call POST /api/uploads/complete.
  void stop;
}

/** The local stream was replaced (devices changed) while in the room. */
export function onLocalStreamChanged(stream: MediaStream): void {
  // TODO(recording): if recording, keep recording from the new tracks.
  void stream;
}

/** We left the studio (the page stays open): uploads should continue in the background. */
export function onStudioLeft(): void {
  // TODO(recording): stop any recording still running; keep uploading what was recorded.
}

const progressListeners = new Set<(p: UploadProgress) => void>();
let lastProgress: UploadProgress | null = null;

/** For the recording module: report upload progress (the studio shows it and tells the hosts). */
export function publishUploadProgress(progress: UploadProgress): void {
  lastProgress = progress;
  for (const listener of progressListeners) listener(progress);
}

/** For the studio: upload progress as it changes (the last known value right away). */
export function subscribeUploadProgress(listener: (p: UploadProgress) => void): () => void {
  progressListeners.add(listener);
  if (lastProgress) listener(lastProgress);
  return () => progressListeners.delete(listener);
}
