// Who enters the studio for a room: a guest with the participant token the join page stored
// for this room, otherwise the host with their access token.
import { refreshHostTokens, tokens, type Auth } from '../services/api';

export interface StudioIdentity {
  kind: 'host' | 'guest';
  auth: Auth;
  /** The token to join with; read afresh each time (the host's may have been refreshed). */
  token: () => string | null;
  refreshToken?: () => Promise<boolean>;
  /** The guest's name as entered on the join page; null for a host (asked from /api/me). */
  name: string | null;
}

export interface GuestProfile {
  participantId: string;
  name: string;
}

export function readGuestProfile(roomId: string): GuestProfile | null {
  try {
    const profile = JSON.parse(localStorage.getItem(`zencast.me.${roomId}`) ?? 'null') as GuestProfile | null;
    return profile && typeof profile.name === 'string' ? profile : null;
  } catch {
    return null;
  }
}

export function resolveIdentity(roomId: string): StudioIdentity | null {
  if (tokens.participant(roomId)) {
    return {
      kind: 'guest',
      auth: { kind: 'participant', roomId },
      token: () => tokens.participant(roomId),
      name: readGuestProfile(roomId)?.name ?? null,
    };
  }
  if (tokens.host()) {
    return {
      kind: 'host',
      auth: { kind: 'host' },
      token: () => tokens.host()?.accessToken ?? null,
      refreshToken: refreshHostTokens,
      name: null,
    };
  }
  return null;
}
