// The take: idle or recording, with its start and stop instants on the server's clock, and our
// estimate of the offset between our clock and the server's.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

import type { RecordingInfo } from '../../services/socket';

export interface Take {
  takeId: string;
  startAt: number;
  stopAt: number | null;
}

export interface RecordingState {
  /** The current take (recording, possibly still counting down), or null when idle. */
  current: Take | null;
  /** The last take that stopped, for "Recorded 12:34". */
  last: Take | null;
  /** A start or stop the host asked for and the server has not confirmed yet. */
  pending: 'start' | 'stop' | null;
  /** serverNow ≈ localNow() + clockOffsetMs; null until the first pong. */
  clockOffsetMs: number | null;
}

const initialState: RecordingState = { current: null, last: null, pending: null, clockOffsetMs: null };

export const recordingSlice = createSlice({
  name: 'recording',
  initialState,
  reducers: {
    reset() {
      return initialState;
    },
    /** From `joined`: the take as the server has it now. */
    synced(state, action: PayloadAction<RecordingInfo>) {
      const r = action.payload;
      state.current = r.state === 'recording' && r.takeId && r.startAt !== null ? { takeId: r.takeId, startAt: r.startAt, stopAt: null } : null;
      state.pending = null;
    },
    started(state, action: PayloadAction<{ takeId: string; startAt: number }>) {
      state.current = { takeId: action.payload.takeId, startAt: action.payload.startAt, stopAt: null };
      state.pending = null;
    },
    stopped(state, action: PayloadAction<{ takeId: string; stopAt: number }>) {
      const startAt = state.current?.takeId === action.payload.takeId ? state.current.startAt : action.payload.stopAt;
      state.last = { takeId: action.payload.takeId, startAt, stopAt: action.payload.stopAt };
      state.current = null;
      state.pending = null;
    },
    requested(state, action: PayloadAction<'start' | 'stop' | null>) {
      state.pending = action.payload;
    },
    clockMeasured(state, action: PayloadAction<number>) {
      state.clockOffsetMs = action.payload;
    },
  },
});

export const recordingActions = recordingSlice.actions;
