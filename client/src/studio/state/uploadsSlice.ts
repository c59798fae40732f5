// Upload progress of recorded chunks: everyone's as the server reports it to hosts, and our own
// from the recording module (through recordingBridge).
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

import type { UploadStatus } from '../../services/socket';
import type { UploadProgress } from '../recordingBridge';

/** Our own upload progress, as the recorder reports it through recordingBridge. */
export type LocalUploads = UploadProgress;

export interface UploadsState {
  byParticipant: Record<string, UploadStatus>;
  /** Our own, from the local recorder; null until it reports. */
  local: LocalUploads | null;
}

const initialState: UploadsState = { byParticipant: {}, local: null };

export const uploadsSlice = createSlice({
  name: 'uploads',
  initialState,
  reducers: {
    reset() {
      return initialState;
    },
    loaded(state, action: PayloadAction<Record<string, UploadStatus>>) {
      state.byParticipant = { ...state.byParticipant, ...action.payload };
    },
    statusReceived(state, action: PayloadAction<{ participantId: string } & UploadStatus>) {
      const { participantId, recorded, uploaded, updatedAt } = action.payload;
      state.byParticipant[participantId] = { recorded, uploaded, updatedAt };
    },
    localProgress(state, action: PayloadAction<LocalUploads>) {
      state.local = action.payload;
    },
  },
});

export const uploadsActions = uploadsSlice.actions;
