// Uploads the chunks in browser storage: presign -> PUT -> confirm (docs/api.md, "Uploads"), a
// few at a time, oldest first; then, when a take has stopped and all its chunks are in, tells
// the server how many there were (complete).
//
// - A chunk leaves browser storage only once the server has it: after its confirm succeeded,
//   or when the server's status (or a presign answering stored: true) lists it as stored.
// - Before uploading to a room, and again after a reconnect, the queue asks the server what it
//   holds (GET /api/uploads/status) and drops those chunks here.
// - The server only takes uploads for a session's latest take. A chunk of an older take is
//   never uploaded (it would land in the new take): it stays in storage, failed, as
//   take_superseded. For the same reason complete is only sent while the take is the latest.
// - Network errors, timeouts and 5xx are retried forever, with exponential backoff and jitter;
//   errors that can never succeed (retryPolicy.ts) mark the chunk failed, with the reason.
// - While the browser is offline nothing starts, and nothing counts as a failed attempt.
import type { Auth } from '../services/api';
import type { ChunkStore } from './chunkStore';
import { sha256Hex } from './hash';
import { alwaysOnline, type Connectivity } from './connectivity';
import { backoffDelay, DEFAULT_BACKOFF, failure, judge, type BackoffOptions } from './retryPolicy';
import type { TakeStore } from './takeStore';
import { authFor, type TakeStatus, type UploadStatus, type UploadTransport } from './transport';
import { takeProgress, type TakeView, type UploadProgress } from './uploadProgress';
import { chunkKey, takeKey, type ChunkMeta, type Failure, type Role, type TakeRecord, type TakeRef } from './types';

export interface UploadQueueOptions {
  chunks: ChunkStore;
  takes: TakeStore;
  transport: UploadTransport;
  connectivity?: Connectivity;
  concurrency?: number;
  backoff?: BackoffOptions;
  random?: () => number;
}

/** Failures that a new sign-in can cure: tried again when the queue starts. */
const AUTH_FAILURES = new Set(['unauthorized', 'token_expired']);

type ItemStatus = 'queued' | 'uploading' | 'waiting' | 'failed';

interface Item {
  meta: ChunkMeta;
  status: ItemStatus;
  attempts: number;
}

interface Room {
  roomId: string;
  role: Role;
  sync: 'unknown' | 'syncing' | 'synced' | 'waiting' | 'failed';
  attempts: number;
  takeId: string | null;
  takeStatus: TakeStatus | null;
}

interface TakeEntry {
  record: TakeRecord;
  completing: boolean;
  /** Waiting for a backoff before trying complete again. */
  waiting: boolean;
  attempts: number;
  /** Stopped here while the server still records (e.g. the recorder failed): complete after the host's stop. */
  heldUntilServerStops: boolean;
}

type Done = NonNullable<TakeView['done']>;

export class UploadQueue {
  private readonly items = new Map<string, Item>();
  private readonly rooms = new Map<string, Room>();
  private readonly takes = new Map<string, TakeEntry>();
  private readonly done = new Map<string, Done>();
  private readonly confirmed = new Map<string, Set<number>>();
  /** Every take seen, in the order seen: the progress lists them so. */
  private readonly seen = new Map<string, TakeRef>();
  private readonly recording = new Set<string>();
  private readonly listeners = new Set<(progress: UploadProgress) => void>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly connectivity: Connectivity;
  private readonly stopWatchingConnectivity: () => void;
  private readonly concurrency: number;
  private online: boolean;
  private uploading = 0;
  private disposed = false;
  private starting: Promise<void> | null = null;

  constructor(private readonly o: UploadQueueOptions) {
    this.connectivity = o.connectivity ?? alwaysOnline;
    this.concurrency = o.concurrency ?? 2;
    this.online = this.connectivity.isOnline();
    this.stopWatchingConnectivity = this.connectivity.subscribe((online) => this.setOnline(online));
  }

  // ---- the API ------------------------------------------------------------------------------

  /**
   * Picks up everything browser storage holds that the server has not confirmed (every room,
   * take and earlier page session) and uploads it. The first call does it; later ones wait for it.
   */
  start(): Promise<void> {
    this.starting ??= this.load();
    return this.starting;
  }

  private async load(): Promise<void> {
    const [chunks, takes] = await Promise.all([this.o.chunks.listUnconfirmed(), this.o.takes.list()]);
    for (const meta of chunks) this.track(AUTH_FAILURES.has(meta.failure?.code ?? '') ? await this.unfail(meta) : meta);
    for (const record of takes) this.trackTake(record);
    this.pump();
  }

  /** A chunk that has just been written to the chunk store. */
  add(meta: ChunkMeta): void {
    this.track(meta);
    this.pump();
  }

  /**
   * This page starts recording a take: remembered in storage before the first chunk. Also when
   * it resumes a take begun before a reload: that one is not completed until this stop.
   */
  async takeStarted(record: TakeRecord): Promise<void> {
    await this.o.takes.put(record).catch(() => {}); // recording must not wait on this: kept in memory then
    this.recording.add(takeKey(record));
    const resumed = this.takes.get(takeKey(record));
    if (resumed) Object.assign(resumed, { record, heldUntilServerStops: false });
    this.trackTake(record);
    this.pump();
  }

  /** This page's recording of the take ended with chunkCount chunks, all in the chunk store. */
  async takeStopped(ref: TakeRef, chunkCount: number): Promise<void> {
    const entry = this.takes.get(takeKey(ref));
    this.recording.delete(takeKey(ref));
    if (entry) {
      entry.record = { ...entry.record, state: 'stopped', chunkCount };
      await this.o.takes.put(entry.record).catch(() => {});
    }
    this.pump();
  }

  /**
   * Asks the server again what it holds (after a reconnect, or when a take stopped), and tries
   * again the chunks refused for want of a valid token: the user may have signed in since.
   */
  resync(): void {
    for (const room of this.rooms.values()) if (room.sync !== 'syncing') room.sync = 'unknown';
    for (const entry of this.takes.values()) entry.heldUntilServerStops = false;
    void this.retryFailed((item) => AUTH_FAILURES.has(item.meta.failure?.code ?? ''));
  }

  /** Tries failed chunks again (all of them, or those `which` picks). */
  async retryFailed(which: (item: Item) => boolean = () => true): Promise<void> {
    const retried = [...this.items.values()].filter((item) => item.status === 'failed' && which(item));
    for (const item of retried) {
      item.status = 'queued';
      item.attempts = 0;
      this.roomOf(item.meta).sync = 'unknown';
      item.meta = await this.unfail(item.meta);
    }
    this.pump();
  }

  /**
   * Nothing is lost by leaving now: no chunk waits for upload, no take records here, and no
   * stopped take waits for its completion. (Failed chunks stay in browser storage.)
   */
  get safeToLeave(): boolean {
    const pendingChunk = [...this.items.values()].some((item) => item.status !== 'failed');
    const pendingTake = [...this.takes.values()].some((t) => t.record.state === 'stopped' && !t.heldUntilServerStops);
    return !pendingChunk && !pendingTake && this.recording.size === 0;
  }

  whenSafeToLeave(): Promise<void> {
    if (this.safeToLeave) return Promise.resolve();
    return new Promise((resolve) => {
      const unsubscribe = this.subscribe((progress) => {
        if (!progress.safeToLeave) return;
        unsubscribe();
        resolve();
      });
    });
  }

  subscribe(listener: (progress: UploadProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  progress(): UploadProgress {
    const views = new Map<string, TakeView>();
    for (const [key, ref] of this.seen) views.set(key, this.emptyView(key, ref));
    let pendingChunks = 0;
    let failedChunks = 0;
    let bytesPending = 0;
    for (const item of this.items.values()) {
      views.get(takeKey(item.meta))?.chunks.push({ meta: item.meta, uploading: item.status === 'uploading' });
      if (item.status === 'failed') failedChunks++;
      else {
        pendingChunks++;
        bytesPending += item.meta.size;
      }
    }
    const takes = [...views.values()].map(takeProgress);
    return { online: this.online, pendingChunks, failedChunks, bytesPending, safeToLeave: this.safeToLeave, takes };
  }

  dispose(): void {
    this.disposed = true;
    this.stopWatchingConnectivity();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.listeners.clear();
  }

  // ---- bookkeeping --------------------------------------------------------------------------

  private track(meta: ChunkMeta): void {
    const key = chunkKey(meta);
    if (this.items.has(key)) return;
    this.items.set(key, { meta, status: meta.state === 'failed' ? 'failed' : 'queued', attempts: 0 });
    this.see(meta);
    const room = this.roomOf(meta);
    if (room.sync === 'failed' && meta.state !== 'failed') room.sync = 'unknown';
  }

  private trackTake(record: TakeRecord): void {
    const key = takeKey(record);
    if (this.takes.has(key)) return;
    this.takes.set(key, { record, completing: false, waiting: false, attempts: 0, heldUntilServerStops: false });
    this.see(record);
    this.roomOf(record);
  }

  private see(ref: TakeRef): void {
    const key = takeKey(ref);
    if (!this.seen.has(key)) this.seen.set(key, { roomId: ref.roomId, takeId: ref.takeId, participantId: ref.participantId });
  }

  private roomOf(ref: { roomId: string; role: Role }): Room {
    let room = this.rooms.get(ref.roomId);
    if (!room) {
      room = { roomId: ref.roomId, role: ref.role, sync: 'unknown', attempts: 0, takeId: null, takeStatus: null };
      this.rooms.set(ref.roomId, room);
    }
    return room;
  }

  private confirmedOf(ref: TakeRef): Set<number> {
    const key = takeKey(ref);
    let set = this.confirmed.get(key);
    if (!set) this.confirmed.set(key, (set = new Set()));
    return set;
  }

  private emptyView(key: string, ref: TakeRef): TakeView {
    const entry = this.takes.get(key);
    return {
      ref,
      chunks: [],
      uploaded: this.confirmed.get(key)?.size ?? 0,
      chunkCount: entry?.record.chunkCount ?? null,
      recording: this.recording.has(key),
      completing: entry?.record.state === 'stopped',
      done: this.done.get(key) ?? null,
    };
  }

  private itemsOfRoom(roomId: string): Item[] {
    return [...this.items.values()].filter((item) => item.meta.roomId === roomId);
  }

  private hasUnsentChunks(ref: TakeRef): boolean {
    const key = takeKey(ref);
    return [...this.items.values()].some((item) => item.status !== 'failed' && takeKey(item.meta) === key);
  }

  private later(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.disposed) run();
    }, delayMs);
    this.timers.add(timer);
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, this.o.backoff ?? DEFAULT_BACKOFF, this.o.random);
  }

  private emit(): void {
    if (this.disposed || this.listeners.size === 0) return;
    const progress = this.progress();
    for (const listener of [...this.listeners]) listener(progress);
  }

  private setOnline(online: boolean): void {
    this.online = online;
    if (online) {
      // Back online: what did the server get meanwhile? And no need to sit out old backoffs.
      for (const item of this.items.values()) if (item.status === 'waiting') item.status = 'queued';
      for (const room of this.rooms.values()) if (room.sync !== 'syncing') room.sync = 'unknown';
    }
    this.pump();
  }

  // ---- the work -----------------------------------------------------------------------------

  private pump(): void {
    if (this.disposed) return;
    if (this.online) {
      this.syncRoomsInNeed();
      this.startUploads();
      this.startCompletions();
    }
    this.emit();
  }

  private queuedInOrder(): Item[] {
    return [...this.items.values()]
      .filter((item) => item.status === 'queued')
      .sort((a, b) => a.meta.createdAt - b.meta.createdAt || a.meta.index - b.meta.index);
  }

  private startUploads(): void {
    for (const item of this.queuedInOrder()) {
      if (this.uploading >= this.concurrency) return;
      const room = this.rooms.get(item.meta.roomId);
      if (room?.sync === 'synced' && room.takeId === item.meta.takeId) void this.upload(item);
    }
  }

  private syncRoomsInNeed(): void {
    for (const room of this.rooms.values()) {
      if (room.sync === 'syncing' || room.sync === 'waiting') continue;
      const queued = this.itemsOfRoom(room.roomId).filter((item) => item.status === 'queued');
      const orphanTake = [...this.takes.entries()].some(
        ([key, t]) => t.record.roomId === room.roomId && t.record.state === 'recording' && !this.recording.has(key),
      );
      const stale = room.sync === 'synced' && queued.some((item) => item.meta.takeId !== room.takeId);
      if (stale || (room.sync === 'unknown' && (queued.length > 0 || orphanTake))) void this.syncRoom(room);
    }
  }

  private async upload(item: Item): Promise<void> {
    item.status = 'uploading';
    this.uploading++;
    this.emit();
    try {
      const outcome = await this.send(item.meta);
      if (outcome === 'stored') await this.dropConfirmed(item);
      else {
        await this.fail(item, failure('take_superseded'));
        this.roomOf(item.meta).sync = 'unknown';
      }
    } catch (error) {
      await this.uploadFailed(item, error);
    } finally {
      this.uploading--;
      this.pump();
    }
  }

  /** presign -> PUT -> confirm. 'superseded' when the server's latest take is another one. */
  private async send(meta: ChunkMeta): Promise<'stored' | 'superseded'> {
    const blob = await this.o.chunks.getBlob(meta);
    if (!blob) throw new MissingLocallyError();
    const sha256 = meta.sha256 ?? (await this.hash(meta, blob));
    const auth = authFor(meta.role, meta.roomId);
    const presigned = await this.o.transport.presign(auth, {
      roomId: meta.roomId,
      chunkIndex: meta.index,
      size: meta.size,
      sha256,
      contentType: meta.mimeType,
      mediaStartMs: Math.round(meta.startMs),
    });
    if (presigned.takeId !== meta.takeId) return 'superseded';
    if (presigned.stored) return 'stored'; // same bytes already confirmed
    await this.o.transport.put(presigned, blob);
    await this.o.transport.confirm(auth, { roomId: meta.roomId, chunkIndex: meta.index, mediaStartMs: Math.round(meta.startMs) });
    return 'stored';
  }

  /** A chunk stored before its hash was (a crash in between, or hashing failed then). */
  private async hash(meta: ChunkMeta, blob: Blob): Promise<string> {
    const sha256 = await sha256Hex(blob);
    const item = this.items.get(chunkKey(meta));
    if (item) item.meta = { ...item.meta, sha256 };
    await this.o.chunks.setSha256(meta, sha256).catch(() => {});
    return sha256;
  }

  private async uploadFailed(item: Item, error: unknown): Promise<void> {
    if (error instanceof MissingLocallyError) return this.fail(item, failure('missing_locally'));
    const verdict = judge(error);
    if (verdict.kind === 'fail') return this.fail(item, verdict.failure);
    if (verdict.kind === 'resync') {
      item.status = 'queued';
      this.roomOf(item.meta).sync = 'unknown';
      return;
    }
    if (!this.online) {
      item.status = 'queued'; // offline: not the chunk's fault, try when back
      return;
    }
    item.attempts++;
    item.status = 'waiting';
    this.later(this.backoff(item.attempts), () => {
      if (item.status !== 'waiting') return;
      item.status = 'queued';
      this.pump();
    });
  }

  /** The server has the chunk: now, and only now, it leaves browser storage. */
  private async dropConfirmed(item: Item): Promise<void> {
    this.items.delete(chunkKey(item.meta));
    this.confirmedOf(item.meta).add(item.meta.index);
    // If this delete fails, the next start() finds the chunk, and the server's status drops it.
    await this.o.chunks.delete(item.meta).catch(() => {});
  }

  private async fail(item: Item, why: Failure): Promise<void> {
    item.status = 'failed';
    item.meta = { ...item.meta, state: 'failed', failure: why };
    await this.o.chunks.markFailed(item.meta, why).catch(() => {});
  }

  private async unfail(meta: ChunkMeta): Promise<ChunkMeta> {
    await this.o.chunks.markPending(meta).catch(() => {});
    const { failure: _failure, ...rest } = meta;
    return { ...rest, state: 'pending' };
  }

  // ---- what the server holds ----------------------------------------------------------------

  private async syncRoom(room: Room): Promise<void> {
    room.sync = 'syncing';
    try {
      const status = await this.o.transport.status(authFor(room.role, room.roomId), room.roomId);
      room.takeId = status.takeId;
      room.takeStatus = status.takeStatus;
      await this.applyStatus(room, status);
      room.sync = 'synced';
      room.attempts = 0;
    } catch (error) {
      await this.syncFailed(room, error);
    }
    this.pump();
  }

  private async syncFailed(room: Room, error: unknown): Promise<void> {
    const verdict = judge(error);
    if (verdict.kind === 'retry') {
      room.sync = this.online ? 'waiting' : 'unknown';
      if (this.online) this.later(this.backoff(++room.attempts), () => this.retrySync(room));
      return;
    }
    // The server refuses this room for good (or it has no take at all): nothing can be sent.
    const why = verdict.kind === 'fail' ? verdict.failure : failure('no_take');
    room.sync = 'failed';
    for (const item of this.itemsOfRoom(room.roomId)) if (item.status === 'queued') await this.fail(item, why);
    for (const entry of this.takesOfRoom(room.roomId)) await this.abandonTake(entry, why);
  }

  private retrySync(room: Room): void {
    if (room.sync !== 'waiting') return;
    room.sync = 'unknown';
    this.pump();
  }

  private takesOfRoom(roomId: string): TakeEntry[] {
    return [...this.takes.entries()].filter(([key, t]) => t.record.roomId === roomId && !this.recording.has(key)).map(([, t]) => t);
  }

  private async applyStatus(room: Room, status: UploadStatus): Promise<void> {
    const stored = new Set(status.chunks);
    const me = this.o.transport.participantIdOf?.(authFor(room.role, room.roomId)) ?? null;
    for (const item of this.itemsOfRoom(room.roomId)) {
      if (item.status === 'uploading') continue; // it finds out by itself
      const { meta } = item;
      const current = meta.takeId === status.takeId;
      if (me && meta.participantId !== me) {
        if (item.status !== 'failed') await this.fail(item, failure('participant_changed'));
      } else if (current && stored.has(meta.index)) await this.dropConfirmed(item);
      else if (item.status === 'failed') continue;
      else if (!current) await this.fail(item, failure('take_superseded'));
      else if (status.takeStatus === 'complete') await this.fail(item, failure('take_closed'));
    }
    for (const entry of this.takesOfRoom(room.roomId)) await this.applyStatusToTake(entry, status, stored);
  }

  private async applyStatusToTake(entry: TakeEntry, status: UploadStatus, stored: Set<number>): Promise<void> {
    const { record } = entry;
    if (record.takeId !== status.takeId) return this.finishTake(entry, { state: 'superseded', missing: [] });
    for (const index of stored) this.confirmedOf(record).add(index);
    if (status.takeStatus !== 'recording') entry.heldUntilServerStops = false;
    if (record.state === 'recording' && status.takeStatus !== 'recording') {
      // Recorded here until a reload or crash, and the take has stopped since: it has the
      // chunks we still hold and those the server got, nothing after.
      const indexes = [...stored, ...this.itemsOfTake(record).map((item) => item.meta.index)];
      entry.record = { ...record, state: 'stopped', chunkCount: indexes.length ? Math.max(...indexes) + 1 : 0 };
      await this.o.takes.put(entry.record).catch(() => {});
    }
  }

  private itemsOfTake(ref: TakeRef): Item[] {
    const key = takeKey(ref);
    return [...this.items.values()].filter((item) => takeKey(item.meta) === key);
  }

  // ---- completing takes ---------------------------------------------------------------------

  private startCompletions(): void {
    for (const [key, entry] of this.takes) {
      const ready = entry.record.state === 'stopped' && !this.recording.has(key);
      const busy = entry.completing || entry.waiting || entry.heldUntilServerStops;
      if (ready && !busy && !this.hasUnsentChunks(entry.record)) void this.complete(entry);
    }
  }

  private async complete(entry: TakeEntry): Promise<void> {
    const { record } = entry;
    const auth: Auth = authFor(record.role, record.roomId);
    entry.completing = true;
    try {
      // Nothing recorded (stopped during the countdown): the server does not count us in.
      if (record.chunkCount === 0) return await this.finishTake(entry, { state: 'complete', missing: [] });
      // complete acts on the latest take: never declare this take's count on another one.
      const status = await this.o.transport.status(auth, record.roomId);
      if (status.takeId !== record.takeId) await this.finishTake(entry, { state: 'superseded', missing: [] });
      else if (status.takeStatus === 'recording') entry.heldUntilServerStops = true;
      else if (status.takeStatus === 'complete') await this.finishTake(entry, { state: 'complete', missing: missingOf(record, status) });
      else {
        const answer = await this.o.transport.complete(auth, { roomId: record.roomId, chunkCount: record.chunkCount ?? 0 });
        await this.finishTake(entry, { state: answer.missing.length ? 'incomplete' : 'complete', missing: answer.missing });
      }
    } catch (error) {
      const verdict = judge(error);
      if (verdict.kind === 'fail') await this.abandonTake(entry, verdict.failure);
      else this.retryCompleteLater(entry);
    } finally {
      entry.completing = false;
      this.pump();
    }
  }

  private retryCompleteLater(entry: TakeEntry): void {
    entry.waiting = true;
    this.later(this.online ? this.backoff(++entry.attempts) : 0, () => {
      entry.waiting = false;
      this.pump();
    });
  }

  private async finishTake(entry: TakeEntry, done: Done): Promise<void> {
    const key = takeKey(entry.record);
    this.takes.delete(key);
    this.done.set(key, done);
    await this.o.takes.delete(entry.record).catch(() => {});
  }

  /** Completion refused for good. Kept in storage when signing in again may cure it. */
  private async abandonTake(entry: TakeEntry, why: Failure): Promise<void> {
    const key = takeKey(entry.record);
    this.takes.delete(key);
    this.done.set(key, { state: 'incomplete', missing: [] });
    if (!AUTH_FAILURES.has(why.code)) await this.o.takes.delete(entry.record).catch(() => {});
  }
}

class MissingLocallyError extends Error {}

function missingOf(record: TakeRecord, status: UploadStatus): number[] {
  const stored = new Set(status.chunks);
  const count = record.chunkCount ?? 0;
  return Array.from({ length: count }, (_, i) => i).filter((i) => !stored.has(i));
}
