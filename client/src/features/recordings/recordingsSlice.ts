// The host's sessions: the dashboard list, each session's details (kept fresh by polling on
// its page), creating a session and asking for a new render.
import { createAsyncThunk, createSlice, isAnyOf } from '@reduxjs/toolkit';

import { recordingsApi } from '../../services/endpoints';
import { toProblem, type Problem } from '../../services/problems';
import type { RecordingDetail, RecordingListEntry, RenderJob, RenderLayout, RenderResolution } from '../../services/types';
import { signIn, signOut, signUp } from '../auth/authSlice';

type LoadStatus = 'idle' | 'loading' | 'loaded' | 'failed';

export interface DetailState {
  data: RecordingDetail | null;
  status: LoadStatus;
  error: Problem | null;
  /** Bumped when a render is requested, so the page starts polling again. */
  renderEpoch: number;
}

export interface RecordingsState {
  list: { items: RecordingListEntry[]; status: LoadStatus; error: Problem | null };
  details: Record<string, DetailState>;
  create: { status: 'idle' | 'pending' | 'failed'; error: Problem | null; createdId: string | null };
  render: Record<string, { pending: boolean; error: Problem | null }>;
}

const initialState: RecordingsState = {
  list: { items: [], status: 'idle', error: null },
  details: {},
  create: { status: 'idle', error: null, createdId: null },
  render: {},
};

type Rejects = { rejectValue: Problem };

export const fetchRecordings = createAsyncThunk<RecordingListEntry[], void, Rejects>(
  'recordings/fetchList',
  async (_, { signal, rejectWithValue }) => {
    try {
      return await recordingsApi.list(signal);
    } catch (err) {
      return rejectWithValue(toProblem(err));
    }
  },
);

export const fetchRecording = createAsyncThunk<RecordingDetail, string, Rejects>(
  'recordings/fetchOne',
  async (roomId, { signal, rejectWithValue }) => {
    try {
      return await recordingsApi.get(roomId, signal);
    } catch (err) {
      return rejectWithValue(toProblem(err));
    }
  },
);

export const createRecording = createAsyncThunk<RecordingDetail, string, Rejects>(
  'recordings/create',
  async (title, { rejectWithValue }) => {
    try {
      return await recordingsApi.create(title);
    } catch (err) {
      return rejectWithValue(toProblem(err));
    }
  },
);

export interface RenderRequest {
  roomId: string;
  layout: RenderLayout;
  resolution: RenderResolution;
}

export const requestRender = createAsyncThunk<RenderJob, RenderRequest, Rejects>(
  'recordings/render',
  async ({ roomId, layout, resolution }, { rejectWithValue }) => {
    try {
      return await recordingsApi.render(roomId, { layout, resolution });
    } catch (err) {
      return rejectWithValue(toProblem(err));
    }
  },
);

function detail(state: RecordingsState, roomId: string): DetailState {
  state.details[roomId] ??= { data: null, status: 'idle', error: null, renderEpoch: 0 };
  return state.details[roomId];
}

const recordingsSlice = createSlice({
  name: 'recordings',
  initialState,
  reducers: {
    resetCreate(state) {
      state.create = initialState.create;
    },
    clearRenderError(state, { payload: roomId }: { payload: string }) {
      if (state.render[roomId]) state.render[roomId].error = null;
    },
  },
  extraReducers: (builder) => {
    builder
      .addCase(fetchRecordings.pending, (state) => {
        state.list.status = state.list.status === 'loaded' ? 'loaded' : 'loading';
        state.list.error = null;
      })
      .addCase(fetchRecordings.fulfilled, (state, { payload }) => {
        state.list = { items: payload, status: 'loaded', error: null };
      })
      .addCase(fetchRecordings.rejected, (state, { payload, error, meta }) => {
        if (meta.aborted) return;
        state.list.status = 'failed';
        state.list.error = payload ?? toProblem(error);
      })

      .addCase(fetchRecording.pending, (state, { meta }) => {
        const d = detail(state, meta.arg);
        if (!d.data) d.status = 'loading';
      })
      .addCase(fetchRecording.fulfilled, (state, { payload, meta }) => {
        const d = detail(state, meta.arg);
        d.data = payload;
        d.status = 'loaded';
        d.error = null;
      })
      .addCase(fetchRecording.rejected, (state, { payload, error, meta }) => {
        if (meta.aborted) return;
        const d = detail(state, meta.arg);
        d.error = payload ?? toProblem(error);
        // A failed refresh keeps what is shown; a failed first load is an error page.
        if (!d.data || d.error.status === 404) {
          d.data = null;
          d.status = 'failed';
        }
      })

      .addCase(createRecording.pending, (state) => {
        state.create = { status: 'pending', error: null, createdId: null };
      })
      .addCase(createRecording.fulfilled, (state, { payload }) => {
        state.create = { status: 'idle', error: null, createdId: payload.roomId };
        state.details[payload.roomId] = { data: payload, status: 'loaded', error: null, renderEpoch: 0 };
        state.list.items.unshift({ ...payload, recordedMs: 0, recordingSince: null, render: null });
      })
      .addCase(createRecording.rejected, (state, { payload, error }) => {
        state.create = { status: 'failed', error: payload ?? toProblem(error), createdId: null };
      })

      .addCase(requestRender.pending, (state, { meta }) => {
        state.render[meta.arg.roomId] = { pending: true, error: null };
      })
      .addCase(requestRender.fulfilled, (state, { payload, meta }) => {
        state.render[meta.arg.roomId] = { pending: false, error: null };
        const d = detail(state, meta.arg.roomId);
        if (d.data) {
          d.data.render = payload;
          d.data.status = 'queued';
        }
        d.renderEpoch += 1;
      })
      .addCase(requestRender.rejected, (state, { payload, error, meta }) => {
        state.render[meta.arg.roomId] = { pending: false, error: payload ?? toProblem(error) };
      })

      // One host's sessions are never shown to the next one signing in on this browser.
      .addMatcher(isAnyOf(signOut.pending, signIn.fulfilled, signUp.fulfilled), () => initialState);
  },
});

export const { resetCreate, clearRenderError } = recordingsSlice.actions;
export const recordingsReducer = recordingsSlice.reducer;
