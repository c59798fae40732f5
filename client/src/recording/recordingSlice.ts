// The local recording as the studio shows it: countdown, recording, stopping; the take; the
// latest problem; free storage; and the upload progress of every take this browser holds.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

import type { StorageCheck } from './storageHealth';
import type { UploadProgress } from './uploadProgress';

export type RecordingPhase = 'idle' | 'countdown' | 'recording' | 'stopping';

export interface RecordingProblem {
  /** storage_full, storage_unavailable, recorder_stopped, recorder_error, recorder_unsupported, ... */
  code: string;
  message: string;
}

export interface RecordingState {
  phase: RecordingPhase;
  roomId: string | null;
  takeId: string | null;
  /** recording.started's startAt (server clock). */
  startAt: number | null;
  /** When this recording actually started (chunk 0's start, server clock). */
  startedAt: number | null;
  mimeType: string | null;
  chunksRecorded: number;
  problem: RecordingProblem | null;
  storage: StorageCheck | null;
  /** null until asked; false when the browser may evict our data under storage pressure. */
  persistentStorage: boolean | null;
  uploads: UploadProgress;
}

const initialState: RecordingState = {
  phase: 'idle',
  roomId: null,
  takeId: null,
  startAt: null,
  startedAt: null,
  mimeType: null,
  chunksRecorded: 0,
  problem: null,
  storage: null,
  persistentStorage: null,
  uploads: { online: true, pendingChunks: 0, failedChunks: 0, bytesPending: 0, safeToLeave: true, takes: [] },
};

const recordingSlice = createSlice({
  name: 'recording',
  initialState,
  reducers: {
    countdownStarted(state, action: PayloadAction<{ roomId: string; takeId: string; startAt: number }>) {
      Object.assign(state, { phase: 'countdown', startedAt: null, mimeType: null, chunksRecorded: 0, problem: null }, action.payload);
    },
    recordingStarted(state, action: PayloadAction<{ startedAt: number; mimeType: string }>) {
      Object.assign(state, { phase: 'recording' }, action.payload);
    },
    chunkRecorded(state, action: PayloadAction<{ index: number }>) {
      state.chunksRecorded = Math.max(state.chunksRecorded, action.payload.index + 1);
    },
    stopping(state) {
      state.phase = 'stopping';
    },
    stopped(state, action: PayloadAction<{ chunkCount: number }>) {
      state.phase = 'idle';
      state.chunksRecorded = action.payload.chunkCount;
    },
    /** The recording could not start or broke off for good. */
    recordingFailed(state, action: PayloadAction<RecordingProblem>) {
      state.phase = 'idle';
      state.problem = action.payload;
    },
    problemReported(state, action: PayloadAction<RecordingProblem>) {
      state.problem = action.payload;
    },
    problemDismissed(state) {
      state.problem = null;
    },
    storageChecked(state, action: PayloadAction<StorageCheck>) {
      state.storage = action.payload;
    },
    persistenceChecked(state, action: PayloadAction<boolean>) {
      state.persistentStorage = action.payload;
    },
    uploadsProgressed(state, action: PayloadAction<UploadProgress>) {
      state.uploads = action.payload;
    },
  },
});

export const recordingActions = recordingSlice.actions;
export const recordingReducer = recordingSlice.reducer;
