// Test doubles for the recording tests: an in-memory upload server that follows docs/api.md
// (presign, PUT, confirm, status, complete and their errors), and chunk factories.
// Not used by the app.
import { ApiError, type Auth } from '../services/api';
import { sha256Hex } from './hash';
import type {
  CompleteResponse,
  ConfirmRequest,
  PresignRequest,
  PresignResponse,
  TakeStatus,
  UploadStatus,
  UploadTarget,
  UploadTransport,
} from './transport';
import type { ChunkRecord, Role } from './types';
import { VIDEO_TYPES } from './mediaSettings';

type Op = 'presign' | 'put' | 'confirm' | 'status' | 'complete';

interface ServerChunk {
  size: number;
  sha256: string;
  state: 'pending' | 'stored';
  mediaStartMs?: number;
}

interface Take {
  takeId: string;
  status: TakeStatus;
}

export class FakeUploadServer implements UploadTransport {
  readonly calls: Array<{ op: Op; roomId: string; index?: number; at: number }> = [];
  readonly completes: Array<{ roomId: string; chunkCount: number }> = [];
  readonly chunks = new Map<string, ServerChunk>();
  private readonly objects = new Map<string, { size: number; sha256: string }>();
  private readonly takes = new Map<string, Take[]>();
  private readonly faults: Array<{ op: Op; error: unknown; times: number }> = [];
  private puts = 0;
  maxConcurrentPuts = 0;
  /** Set to hold every PUT until the returned promise resolves. */
  putGate: (() => Promise<void>) | null = null;
  participantId: string | null = null;

  startTake(roomId: string, takeId: string): void {
    const takes = this.takes.get(roomId) ?? [];
    takes.push({ takeId, status: 'recording' });
    this.takes.set(roomId, takes);
  }

  setTakeStatus(roomId: string, status: TakeStatus): void {
    this.latest(roomId)!.status = status;
  }

  /** The next `times` calls of op throw error. */
  failNext(op: Op, error: unknown, times = 1): void {
    this.faults.push({ op, error, times });
  }

  storedIndexes(roomId: string, takeId: string): number[] {
    const prefix = `${roomId}/${takeId}/`;
    return [...this.chunks.entries()]
      .filter(([key, c]) => key.startsWith(prefix) && c.state === 'stored')
      .map(([key]) => Number(key.slice(prefix.length)))
      .sort((a, b) => a - b);
  }

  /** The chunk as if uploaded earlier (by a page that was closed since); not logged in calls. */
  async accept(record: ChunkRecord): Promise<void> {
    const logged = this.calls.length;
    const auth: Auth = { kind: 'host' };
    const request = { roomId: record.roomId, chunkIndex: record.index, mediaStartMs: record.startMs };
    const sha256 = record.sha256 ?? (await sha256Hex(record.blob));
    const presigned = await this.presign(auth, { ...request, size: record.size, sha256, contentType: record.mimeType });
    if (!presigned.stored) await this.put(presigned, record.blob);
    await this.confirm(auth, request);
    this.calls.length = logged;
  }

  count(op: Op): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  async presign(_auth: Auth, req: PresignRequest): Promise<PresignResponse> {
    this.enter('presign', req.roomId, req.chunkIndex);
    const take = this.acceptingTake(req.roomId);
    const key = `${req.roomId}/${take.takeId}/${req.chunkIndex}`;
    const existing = this.chunks.get(key);
    if (existing?.state === 'stored') {
      if (existing.sha256 === req.sha256 && existing.size === req.size) return { stored: true, takeId: take.takeId, chunkIndex: req.chunkIndex };
      throw new ApiError(409, 'conflict', 'a different chunk is already stored under this index');
    }
    this.chunks.set(key, { size: req.size, sha256: req.sha256, state: 'pending' });
    return {
      stored: false,
      url: `https://storage.test/${key}`,
      method: 'PUT',
      headers: { 'Content-Type': req.contentType },
      expiresAt: Date.now() + 900_000,
      key,
      takeId: take.takeId,
      chunkIndex: req.chunkIndex,
    };
  }

  async put(target: UploadTarget, blob: Blob): Promise<void> {
    const key = target.url.replace('https://storage.test/', '');
    this.enter('put', key.split('/')[0], Number(key.split('/')[2]));
    this.puts++;
    this.maxConcurrentPuts = Math.max(this.maxConcurrentPuts, this.puts);
    try {
      if (this.putGate) await this.putGate();
      const signed = this.chunks.get(key);
      const sha256 = await sha256Hex(blob);
      if (!signed || signed.sha256 !== sha256) throw new ApiError(400, 'checksum_mismatch', 'the body does not match');
      this.objects.set(key, { size: blob.size, sha256 });
    } finally {
      this.puts--;
    }
  }

  async confirm(_auth: Auth, req: ConfirmRequest): Promise<void> {
    this.enter('confirm', req.roomId, req.chunkIndex);
    const take = this.latest(req.roomId)!;
    const key = `${req.roomId}/${take.takeId}/${req.chunkIndex}`;
    const chunk = this.chunks.get(key);
    if (!chunk) throw new ApiError(404, 'not_found', 'no upload was started for this chunk');
    const object = this.objects.get(key);
    if (!object) throw new ApiError(404, 'not_uploaded', 'upload it first');
    if (object.sha256 !== chunk.sha256) throw new ApiError(409, 'checksum_mismatch', 'differs');
    chunk.state = 'stored';
    chunk.mediaStartMs = req.mediaStartMs;
  }

  async status(_auth: Auth, roomId: string): Promise<UploadStatus> {
    this.enter('status', roomId);
    const take = this.latest(roomId);
    if (!take) throw new ApiError(409, 'not_recording', 'no take');
    const prefix = `${roomId}/${take.takeId}/`;
    const mine = [...this.chunks.entries()].filter(([key]) => key.startsWith(prefix));
    const indexes = (state: string) =>
      mine.filter(([, c]) => c.state === state).map(([key]) => Number(key.slice(prefix.length))).sort((a, b) => a - b);
    return { roomId, takeId: take.takeId, takeStatus: take.status, chunks: indexes('stored'), pending: indexes('pending') };
  }

  async complete(_auth: Auth, req: { roomId: string; chunkCount: number }): Promise<CompleteResponse> {
    this.enter('complete', req.roomId);
    const take = this.latest(req.roomId)!;
    if (take.status === 'recording') throw new ApiError(409, 'still_recording', 'still recording');
    this.completes.push(req);
    const stored = new Set(this.storedIndexes(req.roomId, take.takeId));
    const missing = Array.from({ length: req.chunkCount }, (_, i) => i).filter((i) => !stored.has(i));
    if (missing.length === 0) take.status = 'complete';
    return { takeId: take.takeId, complete: missing.length === 0, takeComplete: missing.length === 0, missing };
  }

  participantIdOf(): string | null {
    return this.participantId;
  }

  private enter(op: Op, roomId: string, index?: number): void {
    this.calls.push({ op, roomId, index, at: Date.now() });
    const fault = this.faults.find((f) => f.op === op && f.times > 0);
    if (!fault) return;
    fault.times--;
    throw fault.error;
  }

  private latest(roomId: string): Take | undefined {
    return this.takes.get(roomId)?.at(-1);
  }

  private acceptingTake(roomId: string): Take {
    const take = this.latest(roomId);
    if (!take || take.status === 'complete') throw new ApiError(409, 'not_recording', 'uploads are closed');
    return take;
  }
}

export const ROOM = '3f0c8a62-1f5e-4c55-9d5e-1b7cfa2d1e11';
export const TAKE = '76f410bd-7bb8-4ee6-bca8-79e15be7cf9f';
export const ME = 'a81c0d9e-3b6f-4f0e-8d2b-6a8e5f7c9b10';

/** A chunk record of index `index` with `size` bytes of distinct content. */
export async function makeChunk(
  index: number,
  { roomId = ROOM, takeId = TAKE, participantId = ME, role = 'host' as Role, size = 1000, createdAt = 1_000 + index } = {},
): Promise<ChunkRecord> {
  const bytes = new Uint8Array(size).fill((index * 7) & 0xff);
  bytes.set(new TextEncoder().encode(`${roomId}/${takeId}/${index}`).subarray(0, size)); // distinct content
  const blob = new Blob([bytes], { type: 'video/webm' });
  return {
    roomId,
    takeId,
    participantId,
    index,
    role,
    startMs: 1_764_066_045_004 + index * 10_000,
    mimeType: 'video/webm;codecs=vp9,opus',
    size,
    sha256: await sha256Hex(blob),
    createdAt,
    state: 'pending',
    blob,
  };
}

/** A promise with its resolve function outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Waits one turn of the event loop with Node's setImmediate, which fake timers leave alone
 * (IndexedDB's fake runs on it too).
 */
export function nextTurn(): Promise<void> {
  const { setImmediate } = globalThis as unknown as { setImmediate: (run: () => void) => void };
  return new Promise((resolve) => setImmediate(resolve));
}

/** Lets promises and IndexedDB requests run until condition() holds. */
export async function until(condition: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (condition()) return;
    await nextTurn();
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Lets everything that can run without the clock moving run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await nextTurn();
}

/** MediaRecorder as far as the recorder uses it; the test says when data arrives. */
export class FakeMediaRecorder extends EventTarget {
  static supported = new Set<string>(VIDEO_TYPES);
  static instances: FakeMediaRecorder[] = [];
  /** Runs just before the 'start' event: the test moves its clock there. */
  static beforeStart: () => void = () => {};
  static isTypeSupported(type: string): boolean {
    return FakeMediaRecorder.supported.has(type);
  }

  state: RecordingState = 'inactive';
  mimeType: string;
  timeslice: number | undefined;
  /** Bytes of the last chunk, delivered at stop(). */
  finalBytes = 100;

  constructor(
    readonly stream: MediaStream,
    readonly options: MediaRecorderOptions = {},
  ) {
    super();
    // Chromium records Matroska when asked for H.264 in WebM
    this.mimeType = options.mimeType === 'video/webm;codecs=h264,opus' ? 'video/x-matroska;codecs=avc1.64001F,opus' : (options.mimeType ?? '');
    FakeMediaRecorder.instances.push(this);
  }

  // Events come later, as in browsers; as microtasks so that fake timers do not delay them.
  start(timeslice?: number): void {
    this.state = 'recording';
    this.timeslice = timeslice;
    queueMicrotask(() => {
      FakeMediaRecorder.beforeStart();
      this.dispatchEvent(new Event('start'));
    });
  }

  stop(): void {
    this.state = 'inactive';
    queueMicrotask(() => {
      this.deliver(this.finalBytes);
      this.dispatchEvent(new Event('stop'));
    });
  }

  deliver(bytes: number): void {
    const event = new Event('dataavailable') as Event & { data: Blob };
    event.data = new Blob([new Uint8Array(bytes)], { type: this.mimeType });
    this.dispatchEvent(event);
  }
}
