// The session's chat, oldest first; each message once (a rejoin hands the history again).
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

import type { ChatMessage } from '../../services/socket';

export interface ChatState {
  messages: ChatMessage[];
  /** Messages that arrived while the chat panel was closed (small screens). */
  unread: number;
}

const initialState: ChatState = { messages: [], unread: 0 };

export const chatSlice = createSlice({
  name: 'chat',
  initialState,
  reducers: {
    reset() {
      return initialState;
    },
    historyLoaded(state, action: PayloadAction<ChatMessage[]>) {
      const known = new Set(state.messages.map((m) => m.id));
      const merged = [...state.messages, ...action.payload.filter((m) => !known.has(m.id))];
      state.messages = merged.sort((a, b) => a.sentAt - b.sentAt);
    },
    received(state, action: PayloadAction<{ message: ChatMessage; seen: boolean }>) {
      if (state.messages.some((m) => m.id === action.payload.message.id)) return;
      state.messages.push(action.payload.message);
      if (!action.payload.seen) state.unread += 1;
    },
    read(state) {
      state.unread = 0;
    },
  },
});

export const chatActions = chatSlice.actions;
