// Who this browser is in a room it joined as a guest, for the studio: localStorage
// `zencast.me.{roomId}` = {"participantId", "name"}. The participant token itself is kept by
// tokens.setParticipant (services/api.ts).
import { tokens } from './api';

export interface GuestIdentity {
  participantId: string;
  name: string;
}

const meKey = (roomId: string) => `zencast.me.${roomId}`;
const LAST_NAME_KEY = 'zencast.guestName';

export function saveGuestIdentity(roomId: string, token: string, me: GuestIdentity) {
  tokens.setParticipant(roomId, token);
  localStorage.setItem(meKey(roomId), JSON.stringify(me));
  localStorage.setItem(LAST_NAME_KEY, me.name);
}

/** This browser's identity in the room, if it joined and its token has not expired. */
export function guestIdentity(roomId: string): GuestIdentity | null {
  const token = tokens.participant(roomId);
  const text = localStorage.getItem(meKey(roomId));
  if (!token || !text || tokenExpired(token)) return null;
  try {
    return JSON.parse(text) as GuestIdentity;
  } catch {
    return null;
  }
}

/** The name last typed on a join page, to offer it again. */
export function lastGuestName(): string {
  return localStorage.getItem(LAST_NAME_KEY) ?? '';
}

function tokenExpired(jwt: string): boolean {
  try {
    const payload = JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return typeof payload.exp === 'number' && payload.exp * 1000 <= Date.now();
  } catch {
    return true;
  }
}
