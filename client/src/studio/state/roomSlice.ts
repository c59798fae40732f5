// Who is in the room, how we are connected to the server and to each peer, and whose
// microphone and camera are on.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

import type { MediaState } from '../../rtc/mediaState';
import type { JoinedMessage, Participant, Role, SocketState } from '../../services/socket';

export interface StudioParticipant extends Participant {
  /** Microphone / camera on, as the participant last told us (null: not heard yet). */
  media: MediaState | null;
  /** Our WebRTC connection to them (null for ourselves). */
  link: RTCPeerConnectionState | null;
}

export type EndReason = 'left' | 'removed' | 'closed';

export interface Notice {
  id: number;
  code: string;
  message: string;
}

export interface RoomState {
  roomId: string | null;
  self: { id: string; name: string; role: Role } | null;
  participants: Record<string, StudioParticipant>;
  /** Participant ids in the order they joined (ourselves included). */
  order: string[];
  connection: Omit<SocketState, 'retryAt'>;
  ended: { reason: EndReason; code: string | null; message: string } | null;
  localMedia: MediaState;
  notices: Notice[];
}

const initialState: RoomState = {
  roomId: null,
  self: null,
  participants: {},
  order: [],
  connection: { status: 'idle', attempt: 0, error: null, closeCode: null },
  ended: null,
  localMedia: { audio: true, video: true },
  notices: [],
};

let nextNoticeId = 1;

function upsert(state: RoomState, p: Participant) {
  const existing = state.participants[p.id];
  state.participants[p.id] = { ...p, media: existing?.media ?? null, link: existing?.link ?? null };
  if (!state.order.includes(p.id)) state.order.push(p.id);
}

export const roomSlice = createSlice({
  name: 'room',
  initialState,
  reducers: {
    entered(_state, action: PayloadAction<{ roomId: string; localMedia: MediaState }>) {
      return { ...initialState, roomId: action.payload.roomId, localMedia: action.payload.localMedia };
    },
    joined(state, action: PayloadAction<JoinedMessage>) {
      const { participantId, name, role, participants } = action.payload;
      state.self = { id: participantId, name, role };
      const present = new Set(participants.map((p) => p.id));
      for (const id of state.order) if (!present.has(id)) delete state.participants[id];
      state.order = state.order.filter((id) => present.has(id));
      for (const p of [...participants].sort((a, b) => a.joinedAt - b.joinedAt)) upsert(state, p);
      state.ended = null;
    },
    peerJoined(state, action: PayloadAction<Participant>) {
      upsert(state, action.payload);
    },
    peerLeft(state, action: PayloadAction<string>) {
      delete state.participants[action.payload];
      state.order = state.order.filter((id) => id !== action.payload);
    },
    connectionChanged(state, action: PayloadAction<SocketState>) {
      const { status, attempt, error, closeCode } = action.payload;
      state.connection = { status, attempt, error, closeCode };
    },
    linkChanged(state, action: PayloadAction<{ id: string; link: RTCPeerConnectionState | null }>) {
      const p = state.participants[action.payload.id];
      if (p) p.link = action.payload.link;
    },
    remoteMediaChanged(state, action: PayloadAction<{ id: string; media: MediaState }>) {
      const p = state.participants[action.payload.id];
      if (p) p.media = action.payload.media;
    },
    localMediaChanged(state, action: PayloadAction<MediaState>) {
      state.localMedia = action.payload;
    },
    ended(state, action: PayloadAction<{ reason: EndReason; code?: string | null; message: string }>) {
      state.ended = { reason: action.payload.reason, code: action.payload.code ?? null, message: action.payload.message };
    },
    noticeAdded: {
      reducer(state, action: PayloadAction<Notice>) {
        state.notices = [...state.notices.slice(-2), action.payload];
      },
      prepare(notice: { code: string; message: string }) {
        return { payload: { id: nextNoticeId++, ...notice } };
      },
    },
    noticeDismissed(state, action: PayloadAction<number>) {
      state.notices = state.notices.filter((n) => n.id !== action.payload);
    },
  },
});

export const roomActions = roomSlice.actions;
