// The one place where the studio meets the local recorder (src/recording/**, built separately).
// The studio calls the on* functions when the protocol says so; the recorder reports its upload
// progress with publishUploadProgress, which the studio shows and sends to the server as
// `upload-status`. Nothing here knows how recording or uploading works.
//
// The recorder is src/recording/session.ts. Its server clock (recording/clock.ts) is fed here
// from the socket's pongs and is the app's one estimate of the server's time: the studio's
// timer reads it too (both use the same monotonic local time as the socket).

import { serverClock } from '../recording/clock';
import type { Resolution } from '../recording/mediaSettings';
import { getRecordingSession, RecordingError } from '../recording/session';
import type { Auth } from '../services/api';
import { onPong } from '../services/socket';

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
  /** What the stream was opened at: sets the recorder's bitrate. */
  resolution?: Resolution;
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
  /** Nothing is lost by closing the page now: every chunk confirmed, every take completed. */
  safeToLeave: boolean;
  /** Chunks that failed for good for now (they stay in browser storage and are retried later). */
  failed: number;
}

/**
 * A take started (`recording.started`) or, after a (re)join, is in progress (`joined.recording`).
 * It may come again with the same takeId after a reconnect, and startAtServerMs may already be
 * in the past for someone who joined late.
 */
export function onRecordingStarted(start: RecordingStart): void {
  const recording = connectRecorder();
  const take = {
    roomId: start.roomId,
    participantId: start.participantId,
    role: start.auth.kind === 'host' ? ('host' as const) : ('guest' as const),
    takeId: start.takeId,
    startAt: start.startAtServerMs,
  };
  recording.start(take, { stream: start.stream, capture: { resolution: start.resolution ?? '720p' } }).catch((error: unknown) => {
    // After a reload mid-take this resumes the same take (src/recording/takeResume.ts); a
    // RecordingError is shown to the participant by the recording slice.
    if (!(error instanceof RecordingError)) console.error('recording failed to start', error);
  });
}

/** The take stopped (`recording.stopped`). */
export function onRecordingStopped(stop: RecordingStop): void {
  void connectRecorder().stop({ takeId: stop.takeId, stopAt: stop.stopAtServerMs });
}

/** The local stream was replaced (devices changed) while in the room. */
export function onLocalStreamChanged(stream: MediaStream): void {
  // The recorder keeps the tracks it started with until the take ends: a new device takes
  // effect at the next take (a recording cannot change its tracks mid-file).
  void stream;
}

/** We left the studio (the page stays open): uploads continue in the background. */
export function onStudioLeft(): void {
  void connectRecorder().stop();
}

/** The socket is back after a drop: the recorder asks the server again what it holds. */
export function onReconnected(): void {
  connectRecorder().reconnected();
}

let connected = false;

/** The recorder, wired once to the socket's clock samples and to the progress shown here. */
function connectRecorder() {
  const recording = getRecordingSession();
  if (!connected) {
    connected = true;
    onPong((_sent, _server, receivedAt, pong) => serverClock.onPong(pong, receivedAt));
    let latest: UploadProgress = { recorded: 0, uploaded: 0, safeToLeave: recording.safeToLeave(), failed: 0 };
    recording.onUploadStatus(({ recorded, uploaded }) => publishUploadProgress((latest = { ...latest, recorded, uploaded })));
    recording.subscribe(({ safeToLeave, failedChunks }) => {
      if (safeToLeave === latest.safeToLeave && failedChunks === latest.failed) return;
      publishUploadProgress((latest = { ...latest, safeToLeave, failed: failedChunks }));
    });
  }
  return recording;
}

/** Starts the clock samples and resumes earlier uploads as soon as the studio opens. */
export function prepareRecorder(): void {
  connectRecorder();
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
