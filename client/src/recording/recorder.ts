// The local recording: MediaRecorder in 10-second chunks, started at the server's start instant,
// each chunk stamped with the server-clock time at which its media starts.
//
// A take resumed after a reload is recorded by a new recorder whose indexes go on from
// firstIndex; its first chunk, like chunk 0, starts with a container header and is timed by its
// own 'start' event: the render places each such run by its start time.
//
// Chunk times. Chunk 0 starts when MediaRecorder's 'start' event fires (measured there, not at
// startAt: a busy or background tab may start late, and the render places the track by this
// time). Chunk k > 0 starts where chunk k-1 ended: at the 'dataavailable' event that handed
// chunk k-1 over, i.e. chunk 0's start plus the media recorded so far, measured on the clock.
// Both are read on the local clock and mapped to the server's with the clock sync offset of
// that moment. This beats chunk 0 + k x 10 s: MediaRecorder's timeslice is not exact, and the
// error would add up; and it beats a duration taken from the media itself: the render fits the
// chunks' media times against these server times to correct a sound card or camera whose clock
// runs fast or slow (worker/src/render_clock.c), which only works if the two are measured
// independently. Each boundary carries the event's dispatch jitter (a few ms) and a roughly
// constant encoder delay; the render's least-squares fit averages the jitter out.
import type { ServerClock } from './clock';
import { pickMimeType, recorderBitrates, uploadContentType, type Resolution } from './mediaSettings';

export interface RecordedChunk {
  index: number;
  /** Server-clock time (epoch ms) at which the chunk's media starts. */
  startMs: number;
  blob: Blob;
  mimeType: string;
}

export type RecorderClock = Pick<ServerClock, 'localNow' | 'toServerTime' | 'serverNow'>;

export interface MediaRecorderClass {
  new (stream: MediaStream, options?: MediaRecorderOptions): MediaRecorder;
  isTypeSupported(type: string): boolean;
}

export interface ChunkRecorderOptions {
  stream: MediaStream;
  clock: RecorderClock;
  /** Stores the chunk (and queues its upload). Called in order, one at a time; stop() waits for all. */
  onChunk: (chunk: RecordedChunk) => Promise<void>;
  /** A chunk that could not be handled, or the recorder failing or stopping by itself. */
  onError?: (error: Error) => void;
  resolution?: Resolution;
  /** The first chunk's index: 0, or where a take resumed after a reload goes on (takeResume.ts). */
  firstIndex?: number;
  mimeType?: string;
  timesliceMs?: number;
  MediaRecorder?: MediaRecorderClass;
  sleep?: (ms: number) => Promise<void>;
}

export const CHUNK_MS = 10_000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RecorderError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RecorderError';
  }
}

export class ChunkRecorder {
  readonly requestedType: string;
  private recorder: MediaRecorder | null = null;
  private contentType: string | null = null;
  private nextIndex = 0;
  private nextStartMs = 0;
  private handling: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | null = null;
  private stopRequested = false;
  private readonly Recorder: MediaRecorderClass;

  constructor(private readonly options: ChunkRecorderOptions) {
    this.nextIndex = options.firstIndex ?? 0;
    this.Recorder = options.MediaRecorder ?? globalThis.MediaRecorder;
    if (!this.Recorder) throw new RecorderError('recorder_unsupported', 'This browser has no MediaRecorder.');
    const audioOnly = options.stream.getVideoTracks().length === 0;
    this.requestedType = options.mimeType ?? pickMimeType((t) => this.Recorder.isTypeSupported(t), { audioOnly });
  }

  /** The type the chunks are uploaded as (known once recording has started). */
  get mimeType(): string {
    return this.contentType ?? this.requestedType;
  }

  /** Chunks of the take so far, those of earlier runs (firstIndex) included. */
  get chunkCount(): number {
    return this.nextIndex;
  }

  /**
   * Waits until the server's clock reaches startAt, starts recording, and resolves with
   * chunk 0's start (server clock) once MediaRecorder has started. Rejects if stop() came first.
   */
  async start(startAt: number): Promise<number> {
    await this.waitUntil(startAt, () => this.stopRequested);
    if (this.stopRequested) throw new RecorderError('cancelled', 'the recording was stopped before it started');
    const { stream, resolution = '720p', timesliceMs = CHUNK_MS } = this.options;
    const bitrates = recorderBitrates(resolution, stream.getVideoTracks().length > 0);
    const recorder = new this.Recorder(stream, { mimeType: this.requestedType, ...bitrates });
    this.recorder = recorder;
    const started = new Promise<number>((resolve, reject) => {
      recorder.addEventListener('start', () => resolve(this.now()), { once: true });
      recorder.addEventListener('error', (e) => reject(errorOf(e)), { once: true });
    });
    this.stopped = new Promise((resolve) => recorder.addEventListener('stop', () => this.onStop(resolve), { once: true }));
    recorder.addEventListener('dataavailable', (e) => this.onData(e as BlobEvent));
    recorder.start(timesliceMs);
    this.nextStartMs = await started;
    recorder.addEventListener('error', (e) => this.options.onError?.(errorOf(e)));
    return this.nextStartMs;
  }

  /**
   * Stops at stopAt (server clock; now when absent or past) and resolves with the number of
   * chunks once the last one has been handled by onChunk.
   */
  async stop(stopAt?: number): Promise<number> {
    this.stopRequested = true;
    if (stopAt !== undefined) await this.waitUntil(stopAt);
    const recorder = this.recorder;
    if (!recorder) return this.nextIndex;
    if (recorder.state !== 'inactive') recorder.stop();
    await this.stopped;
    await this.handling;
    return this.nextIndex;
  }

  private now(): number {
    return this.options.clock.toServerTime(this.options.clock.localNow());
  }

  private onData(event: BlobEvent): void {
    const boundary = this.now(); // this chunk's media ends here, the next one's starts
    const blob = event.data;
    if (blob && blob.size > 0) {
      this.contentType ??= uploadContentType(this.recorder?.mimeType || blob.type || '', this.requestedType);
      const chunk: RecordedChunk = { index: this.nextIndex++, startMs: this.nextStartMs, blob, mimeType: this.contentType };
      this.handling = this.handling.then(() => this.options.onChunk(chunk)).catch((error) => this.options.onError?.(asError(error)));
      // Strictly increasing even if the clock sync moved the offset back a little.
      this.nextStartMs = Math.max(boundary, chunk.startMs + 1);
    } else {
      this.nextStartMs = Math.max(boundary, this.nextStartMs);
    }
  }

  private onStop(resolve: () => void): void {
    if (!this.stopRequested) {
      this.options.onError?.(new RecorderError('recorder_stopped', 'the recording stopped by itself (camera or microphone gone?)'));
    }
    resolve();
  }

  /** Sleeps in steps of at most a second so that a clock sync meanwhile is taken into account. */
  private async waitUntil(serverTime: number, cancelled: () => boolean = () => false): Promise<void> {
    const sleep = this.options.sleep ?? defaultSleep;
    for (;;) {
      const left = serverTime - this.options.clock.serverNow();
      if (left < 1 || cancelled()) return; // timers are no finer than a millisecond anyway
      await sleep(Math.min(left, 1000));
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function errorOf(event: Event): Error {
  const inner = (event as Event & { error?: unknown }).error;
  return inner ? asError(inner) : new RecorderError('recorder_error', 'the recorder failed');
}
