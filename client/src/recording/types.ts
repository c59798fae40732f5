// Shared shapes of the recording module: what a chunk and a take look like in browser storage.

/** How this browser takes part in a room: the host (access token) or a guest (participant token). */
export type Role = 'host' | 'guest';

/** One participant's recording of one take. */
export interface TakeRef {
  roomId: string;
  takeId: string;
  participantId: string;
}

/** One chunk of a take, by its index (0, 1, 2, ... in recording order). */
export interface ChunkRef extends TakeRef {
  index: number;
}

/** Why the server will never accept a chunk (or a take's completion): kept with the chunk. */
export interface Failure {
  code: string;
  message: string;
}

/** pending: waiting for (or in) upload; failed: the server refused it for good (see failure). */
export type ChunkState = 'pending' | 'failed';

/** A chunk's description, without its bytes: cheap to list. */
export interface ChunkMeta extends ChunkRef {
  role: Role;
  /** Server-clock time (epoch ms) at which the chunk's media starts. */
  startMs: number;
  /** The recorder's MIME type, as the presign's contentType accepts it. */
  mimeType: string;
  size: number;
  /**
   * SHA-256 of the bytes, 64 lowercase hex digits (the presign's format). null until computed:
   * a chunk is written before anything else is done with it, hashing included.
   */
  sha256: string | null;
  /** Local time (epoch ms) at which the chunk was stored. */
  createdAt: number;
  state: ChunkState;
  failure?: Failure;
}

/** A chunk with its bytes. */
export interface ChunkRecord extends ChunkMeta {
  blob: Blob;
}

/**
 * recording: this browser records it (or did, until a reload or crash: it goes on from nextIndex
 * if the take still records when the studio is back);
 * stopped: recording ended with chunkCount chunks; the server still has to hear `complete`.
 */
export type TakeState = 'recording' | 'stopped';

/** What this browser remembers of a take until the server has its completion. */
export interface TakeRecord extends TakeRef {
  role: Role;
  /** The server-clock instant the take starts at (recording.started's startAt). */
  startAt: number;
  state: TakeState;
  chunkCount: number | null;
  createdAt: number;
  /** One past the highest chunk index stored here so far: where a recording resumed after a reload goes on. */
  nextIndex?: number;
}

export const chunkKey = (c: ChunkRef): string => `${c.roomId}/${c.takeId}/${c.participantId}/${c.index}`;
export const takeKey = (t: TakeRef): string => `${t.roomId}/${t.takeId}/${t.participantId}`;
