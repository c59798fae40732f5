// Typed calls to the REST API (docs/api.md), on top of apiRequest.
import { apiRequest, tokens } from './api';
import type {
  JoinResult,
  RecordingDetail,
  RecordingListEntry,
  RenderJob,
  RenderLayout,
  RenderResolution,
  Session,
  User,
} from './types';

const none = { kind: 'none' } as const;

export const authApi = {
  async register(body: { email: string; password: string; name: string }): Promise<User> {
    const session = await apiRequest<Session>('POST', '/api/auth/register', body, { auth: none });
    tokens.setHost(session);
    return session.user;
  },
  async login(body: { email: string; password: string }): Promise<User> {
    const session = await apiRequest<Session>('POST', '/api/auth/login', body, { auth: none });
    tokens.setHost(session);
    return session.user;
  },
  async me(): Promise<User> {
    return (await apiRequest<{ user: User }>('GET', '/api/me')).user;
  },
  /** Revokes the refresh token on the server; the local tokens go whatever the answer. */
  async logout(): Promise<void> {
    const current = tokens.host();
    tokens.setHost(null);
    if (current) await apiRequest<void>('POST', '/api/auth/logout', { refreshToken: current.refreshToken }, { auth: none });
  },
};

export const recordingsApi = {
  async list(signal?: AbortSignal): Promise<RecordingListEntry[]> {
    return (await apiRequest<{ recordings: RecordingListEntry[] }>('GET', '/api/recordings', undefined, { signal })).recordings;
  },
  async get(roomId: string, signal?: AbortSignal): Promise<RecordingDetail> {
    const path = `/api/recordings/${encodeURIComponent(roomId)}`;
    return (await apiRequest<{ recording: RecordingDetail }>('GET', path, undefined, { signal })).recording;
  },
  async create(title: string): Promise<RecordingDetail> {
    return (await apiRequest<{ recording: RecordingDetail }>('POST', '/api/recordings', { title })).recording;
  },
  async render(roomId: string, settings: { layout: RenderLayout; resolution: RenderResolution }): Promise<RenderJob> {
    const path = `/api/recordings/${encodeURIComponent(roomId)}/render`;
    return (await apiRequest<{ render: RenderJob }>('POST', path, settings)).render;
  },
};

export const roomsApi = {
  join(roomId: string, body: { inviteToken: string; name: string }): Promise<JoinResult> {
    return apiRequest<JoinResult>('POST', `/api/rooms/${encodeURIComponent(roomId)}/join`, body, { auth: none });
  },
};
