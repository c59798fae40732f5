// A guest joining a session from an invite link.
import { createAsyncThunk, createSlice } from '@reduxjs/toolkit';

import { roomsApi } from '../../services/endpoints';
import { saveGuestIdentity } from '../../services/guestIdentity';
import { toProblem, type Problem } from '../../services/problems';

export interface JoinState {
  status: 'idle' | 'joining' | 'joined' | 'failed';
  error: Problem | null;
}

const initialState: JoinState = { status: 'idle', error: null };

export const joinRoom = createAsyncThunk<void, { roomId: string; inviteToken: string; name: string }, { rejectValue: Problem }>(
  'join/joinRoom',
  async ({ roomId, inviteToken, name }, { rejectWithValue }) => {
    try {
      const joined = await roomsApi.join(roomId, { inviteToken, name });
      saveGuestIdentity(roomId, joined.participantToken, { participantId: joined.participant.id, name: joined.participant.name });
    } catch (err) {
      return rejectWithValue(toProblem(err));
    }
  },
);

const joinSlice = createSlice({
  name: 'join',
  initialState,
  reducers: {
    resetJoin: () => initialState,
  },
  extraReducers: (builder) => {
    builder
      .addCase(joinRoom.pending, () => ({ status: 'joining', error: null }))
      .addCase(joinRoom.fulfilled, () => ({ status: 'joined', error: null }))
      .addCase(joinRoom.rejected, (_, { payload, error }) => ({ status: 'failed', error: payload ?? toProblem(error) }));
  },
});

export const { resetJoin } = joinSlice.actions;
export const joinReducer = joinSlice.reducer;
