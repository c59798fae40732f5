/**
 * The recording facade: all the studio needs to record a take and get it uploaded.
 *
 *   import { getRecordingSession } from '../recording/session';
 *   import { serverClock } from '../recording/clock';
 *   const recording = getRecordingSession(); // one per app; resumes earlier uploads at once
 *
 * Wiring it to the WebSocket (docs/protocol.md):
 *
 *   after `joined`         send serverClock.pingMessage() 5-10 times, ~300 ms apart, then every
 *                          minute or so; on every `pong`: serverClock.onPong(message)
 *   `recording.started`    recording.start({ roomId, participantId, role, takeId: m.takeId, startAt: m.startAt },
 *                                          { stream })  // show the countdown to startAt meanwhile
 *   `joined` with recording.state === 'recording'
 *                          the same start(...): a late joiner records from now on. If this browser
 *                          already recorded part of that take before a reload or a crash, it goes
 *                          on with the same take: a new MediaRecorder whose chunk indexes continue
 *                          the sequence (one past the highest stored here or on the server,
 *                          takeResume.ts), its first chunk with its own header and start time;
 *                          the chunks of before the reload keep uploading, and complete is sent
 *                          once, at the stop, with the total count.
 *   `recording.stopped`    recording.stop({ takeId: m.takeId, stopAt: m.stopAt })
 *   socket reconnected     recording.reconnected()
 *   error `replaced` (4409) recording.stop(): another tab took over
 *   upload status          recording.onUploadStatus((message) => socket.send(message))
 *                          (sends { type: 'upload-status', recorded, uploaded } at most once a second)
 *
 * The stream: pass the local camera+microphone stream got with
 * getUserMedia(buildMediaConstraints({ resolution, audioProcessing })) (mediaSettings.ts) and let
 * the call send a scaled-down copy (RTCRtpSender.setParameters); the recording keeps full quality.
 * Without a stream, start() opens its own with options.capture and closes it at the stop.
 *
 * State for the UI: useSelector((s: RootState) => s.recording) (recordingSlice.ts), or
 * recording.subscribe(listener) for the upload progress alone.
 * Leaving: recording.safeToLeave(), await recording.whenSafeToLeave(); a beforeunload guard is
 * installed while anything is pending.
 */
import type { UnknownAction } from '@reduxjs/toolkit';

import { store } from '../app/store';
import { ChunkStore, StorageFullError } from './chunkStore';
import { serverClock } from './clock';
import { browserConnectivity } from './connectivity';
import { sha256Hex } from './hash';
import { openRecordingDb } from './idb';
import { buildMediaConstraints, DEFAULT_CAPTURE, recordingBytesPerSecond, type CaptureSettings } from './mediaSettings';
import { ChunkRecorder, type MediaRecorderClass, type RecordedChunk, type RecorderClock } from './recorder';
import { recordingActions as actions, type RecordingProblem } from './recordingSlice';
import { installLeaveGuard, resumeUploads } from './resume';
import { checkStorage, requestPersistentStorage } from './storageHealth';
import { TakeStore } from './takeStore';
import { nextChunkIndex } from './takeResume';
import { httpTransport, type UploadTransport } from './transport';
import { uploadStatusMessage, type TakeProgress, type UploadProgress } from './uploadProgress';
import { UploadQueue } from './uploadQueue';
import { takeKey, type ChunkRecord, type Role, type TakeRecord } from './types';

/** What recording.started (or joined.recording) says, and who this browser is in the room. */
export interface TakeInfo {
  roomId: string;
  participantId: string;
  role: Role;
  takeId: string;
  /** Server-clock instant to start at. */
  startAt: number;
}

export interface StartOptions {
  /** The local camera+microphone stream to record (not the call's). */
  stream?: MediaStream;
  /** Without a stream: what to open. Also sets the bitrate (resolution). */
  capture?: Partial<CaptureSettings>;
}

export interface UploadStatusMessage {
  type: 'upload-status';
  recorded: number;
  uploaded: number;
}

export interface RecordingSession {
  /** Resolves once recording has begun (after the countdown); rejects if it cannot. */
  start(take: TakeInfo, options?: StartOptions): Promise<void>;
  /** Resolves once the last chunk is in browser storage (uploads go on). */
  stop(info?: { takeId: string; stopAt?: number }): Promise<void>;
  /** Called at once with the current progress, then on every change. */
  subscribe(listener: (progress: UploadProgress) => void): () => void;
  onUploadStatus(send: (message: UploadStatusMessage) => void): () => void;
  safeToLeave(): boolean;
  whenSafeToLeave(): Promise<void>;
  /** After the WebSocket reconnected: asks the server again what it holds. */
  reconnected(): void;
  /** Tries the failed chunks again (e.g. after signing in again). */
  retryFailed(): Promise<void>;
}

export class RecordingError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RecordingError';
  }
}

export interface SessionDeps {
  chunks: ChunkStore;
  takes: TakeStore;
  queue: UploadQueue;
  /** Asked which chunks the server has when a take resumes after a reload. */
  transport?: Pick<UploadTransport, 'status'>;
  clock: RecorderClock;
  dispatch: (action: UnknownAction) => unknown;
  MediaRecorder?: MediaRecorderClass;
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
  storage?: Parameters<typeof checkStorage>[1];
  /** Local wall-clock time for createdAt. */
  now?: () => number;
}

interface CurrentTake {
  take: TakeRecord;
  recorder: ChunkRecorder;
  ownedStream: MediaStream | null;
  storageTimer: ReturnType<typeof setInterval> | null;
}

const STORAGE_CHECK_MS = 60_000;
const UPLOAD_STATUS_MIN_INTERVAL_MS = 1000;

export function createRecordingSession(deps: SessionDeps): RecordingSession {
  return new Session(deps);
}

class Session implements RecordingSession {
  private current: CurrentTake | null = null;
  /** A start() still opening its stream: a stop() meanwhile cancels it. */
  private starting: { takeId: string; cancelled: boolean } | null = null;
  /** The take whose progress the upload-status message reports: the current or the last one. */
  private reportedTake: string | null = null;

  constructor(private readonly deps: SessionDeps) {
    deps.queue.subscribe((progress) => deps.dispatch(actions.uploadsProgressed(progress)));
  }

  async start(info: TakeInfo, options: StartOptions = {}): Promise<void> {
    const busyWith = this.current?.take.takeId ?? (this.starting?.cancelled === false ? this.starting.takeId : null);
    if (busyWith === info.takeId) return; // joined.recording and recording.started for the same take
    if (busyWith) throw new RecordingError('already_recording', 'Another take is being recorded.');
    const starting = { takeId: info.takeId, cancelled: false };
    this.starting = starting;
    const { take, firstIndex } = await this.takeToRecord(info);
    this.deps.dispatch(actions.countdownStarted({ roomId: info.roomId, takeId: info.takeId, startAt: info.startAt }));
    if (firstIndex > 0) this.deps.dispatch(actions.chunkRecorded({ index: firstIndex - 1 }));
    const capture = { ...DEFAULT_CAPTURE, ...options.capture };
    let ownedStream: MediaStream | null = null;
    try {
      ownedStream = options.stream ? null : await this.openStream(capture);
      if (starting.cancelled) {
        stopTracks(ownedStream);
        this.deps.dispatch(actions.stopped({ chunkCount: 0 }));
        return;
      }
      const stream = options.stream ?? ownedStream!;
      const recorder = new ChunkRecorder({
        stream,
        clock: this.deps.clock,
        resolution: capture.resolution,
        MediaRecorder: this.deps.MediaRecorder,
        firstIndex,
        onChunk: (chunk) => this.storeChunk(take, chunk),
        onError: (error) => this.report(problemOf(error)),
      });
      this.current = { take, recorder, ownedStream, storageTimer: null };
      this.reportedTake = takeKey(take);
      await this.deps.queue.takeStarted(take);
      this.watchStorage(recordingBytesPerSecond(capture.resolution, stream.getVideoTracks().length > 0));
      const startedAt = await recorder.start(info.startAt);
      this.deps.dispatch(actions.recordingStarted({ startedAt, mimeType: recorder.mimeType }));
    } catch (error) {
      if (isCancelled(error)) return; // stop() during the countdown
      stopTracks(ownedStream);
      if (this.current?.take === take) await this.abandon(this.current);
      throw this.fail(problemOf(error).code, problemOf(error).message);
    } finally {
      if (this.starting === starting) this.starting = null;
    }
  }

  async stop(info?: { takeId: string; stopAt?: number }): Promise<void> {
    const current = this.current;
    if (!current && this.starting && (!info || info.takeId === this.starting.takeId)) {
      this.starting.cancelled = true;
      return;
    }
    if (!current || (info && info.takeId !== current.take.takeId)) {
      // A take this page does not record (e.g. one interrupted by a reload that the server stopped
      // before this page could resume it): the queue completes it.
      this.deps.queue.resync();
      return;
    }
    this.deps.dispatch(actions.stopping());
    const chunkCount = await current.recorder.stop(info?.stopAt);
    this.release(current);
    await this.deps.queue.takeStopped(current.take, chunkCount);
    this.deps.dispatch(actions.stopped({ chunkCount }));
  }

  subscribe(listener: (progress: UploadProgress) => void): () => void {
    listener(this.deps.queue.progress());
    return this.deps.queue.subscribe(listener);
  }

  onUploadStatus(send: (message: UploadStatusMessage) => void): () => void {
    let lastSent = '';
    let lastSentAt = -Infinity;
    let waiting: UploadStatusMessage | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      if (!waiting) return;
      send(waiting);
      lastSent = `${waiting.recorded}/${waiting.uploaded}`;
      lastSentAt = Date.now();
      waiting = null;
    };
    const unsubscribe = this.deps.queue.subscribe((progress) => {
      const take = this.reportedProgress(progress);
      if (!take) return;
      const message = uploadStatusMessage(take);
      if (`${message.recorded}/${message.uploaded}` === lastSent) return;
      waiting = message;
      timer ??= setTimeout(flush, Math.max(0, lastSentAt + UPLOAD_STATUS_MIN_INTERVAL_MS - Date.now()));
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }

  safeToLeave(): boolean {
    return this.deps.queue.safeToLeave;
  }

  whenSafeToLeave(): Promise<void> {
    return this.deps.queue.whenSafeToLeave();
  }

  reconnected(): void {
    this.deps.queue.resync();
  }

  retryFailed(): Promise<void> {
    return this.deps.queue.retryFailed();
  }

  /**
   * A new take, or one this browser had begun before a reload or crash (its record is still in
   * browser storage): that one goes on where its chunk sequence stopped.
   */
  private async takeToRecord(info: TakeInfo): Promise<{ take: TakeRecord; firstIndex: number }> {
    const earlier = await this.deps.takes.get(info).catch(() => null);
    if (!earlier) return { take: { ...info, state: 'recording', chunkCount: null, createdAt: this.now() }, firstIndex: 0 };
    const firstIndex = await nextChunkIndex(earlier, { chunks: this.deps.chunks, transport: this.deps.transport });
    return { take: { ...earlier, state: 'recording', chunkCount: null, nextIndex: firstIndex }, firstIndex };
  }

  // ---- chunks -------------------------------------------------------------------------------

  /** Into browser storage (committed) first, then hashed, then to the upload queue. */
  private async storeChunk(take: TakeRecord, chunk: RecordedChunk): Promise<void> {
    const record: ChunkRecord = {
      roomId: take.roomId,
      takeId: take.takeId,
      participantId: take.participantId,
      role: take.role,
      index: chunk.index,
      startMs: chunk.startMs,
      mimeType: chunk.mimeType,
      size: chunk.blob.size,
      sha256: null,
      createdAt: this.now(),
      state: 'pending',
      blob: chunk.blob,
    };
    try {
      await this.deps.chunks.put(record);
      await this.deps.takes.put({ ...take, nextIndex: chunk.index + 1 }).catch(() => {});
    } catch (error) {
      // Never drop a chunk: upload it from memory, and say that closing the tab would lose it.
      this.deps.chunks.keepInMemory(record);
      this.report(error instanceof StorageFullError ? problemOf(error) : { code: 'storage_error', message: `Could not save a chunk: ${String(error)}` });
    }
    const { blob: _blob, ...meta } = record;
    meta.sha256 = await this.hash(record);
    this.deps.queue.add(meta);
    this.deps.dispatch(actions.chunkRecorded({ index: chunk.index }));
  }

  /** null when hashing failed: the upload queue hashes the stored bytes then. */
  private async hash(record: ChunkRecord): Promise<string | null> {
    try {
      const sha256 = await sha256Hex(record.blob);
      await this.deps.chunks.setSha256(record, sha256);
      return sha256;
    } catch {
      return null;
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private async openStream(capture: CaptureSettings): Promise<MediaStream> {
    const getUserMedia = this.deps.getUserMedia ?? ((c: MediaStreamConstraints) => navigator.mediaDevices.getUserMedia(c));
    return getUserMedia(buildMediaConstraints(capture));
  }

  private watchStorage(bytesPerSecond: number): void {
    const check = async () => this.deps.dispatch(actions.storageChecked(await checkStorage(bytesPerSecond, this.deps.storage)));
    void requestPersistentStorage(this.deps.storage).then((granted) => this.deps.dispatch(actions.persistenceChecked(granted)));
    void check();
    if (this.current) this.current.storageTimer = setInterval(() => void check(), STORAGE_CHECK_MS);
  }

  private release(current: CurrentTake): void {
    if (current.storageTimer) clearInterval(current.storageTimer);
    stopTracks(current.ownedStream);
    if (this.current === current) this.current = null;
  }

  /** A start that failed: whatever was recorded is kept and uploaded. */
  private async abandon(current: CurrentTake): Promise<void> {
    this.release(current);
    await this.deps.queue.takeStopped(current.take, current.recorder.chunkCount);
  }

  private report(problem: RecordingProblem): void {
    this.deps.dispatch(actions.problemReported(problem));
  }

  private fail(code: string, message: string): RecordingError {
    this.deps.dispatch(actions.recordingFailed({ code, message }));
    return new RecordingError(code, message);
  }

  /** The take being recorded, else the last one recorded or resumed here. */
  private reportedProgress(progress: UploadProgress): TakeProgress | undefined {
    return progress.takes.find((t) => takeKey(t) === this.reportedTake) ?? progress.takes.at(-1);
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}

function problemOf(error: unknown): RecordingProblem {
  const code = (error as { code?: unknown })?.code;
  const name = (error as { name?: unknown })?.name;
  if (typeof code === 'string') return { code, message: (error as Error).message };
  if (name === 'NotAllowedError') return { code: 'permission_denied', message: 'Camera or microphone access was refused.' };
  if (name === 'NotFoundError') return { code: 'device_not_found', message: 'No camera or microphone was found.' };
  return { code: 'recorder_error', message: error instanceof Error ? error.message : String(error) };
}

function isCancelled(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'cancelled';
}

function stopTracks(stream: MediaStream | null): void {
  stream?.getTracks().forEach((track) => track.stop());
}

let appSession: RecordingSession | null = null;

/** The app's recording session: browser storage, the real API, the shared clock and store. */
export function getRecordingSession(): RecordingSession {
  if (appSession) return appSession;
  const db = openRecordingDb().catch(() => null);
  const chunks = new ChunkStore(db);
  const takes = new TakeStore(db);
  const queue = new UploadQueue({ chunks, takes, transport: httpTransport, connectivity: browserConnectivity() });
  appSession = createRecordingSession({ chunks, takes, queue, transport: httpTransport, clock: serverClock, dispatch: store.dispatch });
  void db.then((opened) => {
    if (!opened) {
      store.dispatch(
        actions.problemReported({
          code: 'storage_unavailable',
          message: 'This browser does not let the studio save recordings on disk (private window?): keep this tab open until uploads finish.',
        }),
      );
    }
  });
  void resumeUploads(queue);
  installLeaveGuard(() => queue.safeToLeave);
  return appSession;
}
