// The shapes the REST API answers with (docs/api.md). Times are epoch milliseconds.

export interface User {
  id: string;
  email: string;
  name: string;
  createdAt: number;
}

export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export type RecordingStatus = 'created' | 'recording' | 'recorded' | 'queued' | 'rendering' | 'ready' | 'failed';

export interface Participant {
  id: string;
  name: string;
  role: 'host' | 'guest';
  joinedAt: number;
}

/** An item of GET /api/recordings: no participants list, takes or render. */
export interface RecordingSummary {
  roomId: string;
  title: string;
  status: RecordingStatus;
  createdAt: number;
  updatedAt: number;
  hostUserId: string;
  inviteToken: string;
  inviteUrl: string;
  participantCount: number;
}

export type TakeStatus = 'recording' | 'stopped' | 'complete';

export interface TakeParticipant {
  participantId: string;
  chunksStored: number;
  chunksPending: number;
  chunkCount: number | null;
  completed: boolean;
}

export interface Take {
  takeId: string;
  status: TakeStatus;
  startedAt: number;
  stoppedAt: number | null;
  missing: Record<string, { declared: number; stored: number }> | null;
  participants: TakeParticipant[];
}

export type RenderLayout = 'grid' | 'speaker' | 'side-by-side';
export type RenderResolution = '720p' | '1080p';
export type RenderStatus = 'queued' | 'running' | 'done' | 'failed';

export interface RenderJob {
  id: string;
  takeId: string;
  status: RenderStatus;
  layout: RenderLayout;
  resolution: RenderResolution;
  progress: number;
  stage: string | null;
  error: string | null;
  attempts: number;
  updatedAt: number;
}

export interface Downloads {
  final: string;
  tracks: Record<string, { wav: string; video: string }>;
  expiresIn: number;
}

/** GET /api/recordings/{roomId}. */
/** An item of GET /api/recordings as the dashboard shows it: also what was recorded and rendered. */
export interface RecordingListEntry extends RecordingSummary {
  /** The time the stopped takes recorded. */
  recordedMs: number;
  /** The start of a take recording now (server clock), or null. */
  recordingSince: number | null;
  /** The latest render, or null. */
  render: Pick<RenderJob, 'status' | 'progress' | 'layout' | 'resolution'> | null;
}

export interface RecordingDetail extends RecordingSummary {
  participants: Participant[];
  takes: Take[];
  render: RenderJob | null;
  downloads?: Downloads;
}

export interface JoinResult {
  roomId: string;
  participant: Participant;
  participantToken: string;
  expiresIn: number;
}
