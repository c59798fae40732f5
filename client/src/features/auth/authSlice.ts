// Who is signed in. `checking` while a stored session is confirmed with GET /api/me at start-up.
import { createAsyncThunk, createSlice, isRejectedWithValue } from '@reduxjs/toolkit';

import { tokens } from '../../services/api';
import { authApi } from '../../services/endpoints';
import { isSessionEnded, toProblem, type Problem } from '../../services/problems';
import type { User } from '../../services/types';

export type AuthStatus = 'checking' | 'signedIn' | 'signedOut';

export interface AuthState {
  status: AuthStatus;
  user: User | null;
  /** The sign-in or sign-up form's request. */
  submitting: boolean;
  error: Problem | null;
}

const initialState: AuthState = {
  status: tokens.host() ? 'checking' : 'signedOut',
  user: null,
  submitting: false,
  error: null,
};

export const restoreSession = createAsyncThunk<User, void, { rejectValue: Problem }>(
  'auth/restoreSession',
  async (_, { rejectWithValue }) => {
    try {
      return await authApi.me();
    } catch (err) {
      const problem = toProblem(err);
      if (isSessionEnded(problem)) tokens.setHost(null);
      return rejectWithValue(problem);
    }
  },
  { condition: () => tokens.host() !== null },
);

export const signIn = createAsyncThunk<User, { email: string; password: string }, { rejectValue: Problem }>(
  'auth/signIn',
  async (credentials, { rejectWithValue }) => {
    try {
      return await authApi.login(credentials);
    } catch (err) {
      return rejectWithValue(toProblem(err));
    }
  },
);

export const signUp = createAsyncThunk<User, { email: string; password: string; name: string }, { rejectValue: Problem }>(
  'auth/signUp',
  async (account, { rejectWithValue }) => {
    try {
      return await authApi.register(account);
    } catch (err) {
      return rejectWithValue(toProblem(err));
    }
  },
);

// Signing out never fails for the person: the local tokens are gone even if the server is not reached.
export const signOut = createAsyncThunk('auth/signOut', async () => {
  await authApi.logout().catch(() => undefined);
});

const authSlice = createSlice({
  name: 'auth',
  initialState,
  reducers: {
    clearAuthError(state) {
      state.error = null;
    },
  },
  extraReducers: (builder) => {
    builder
      .addCase(restoreSession.fulfilled, (state, { payload }) => {
        state.status = 'signedIn';
        state.user = payload;
      })
      .addCase(restoreSession.rejected, (state, { payload }) => {
        // A server that cannot be reached does not end the session; refused tokens do.
        if (payload && !isSessionEnded(payload)) {
          state.status = 'signedIn';
          return;
        }
        state.status = 'signedOut';
        state.user = null;
      })
      .addCase(signOut.pending, (state) => {
        state.status = 'signedOut';
        state.user = null;
        state.error = null;
      });
    for (const thunk of [signIn, signUp]) {
      builder
        .addCase(thunk.pending, (state) => {
          state.submitting = true;
          state.error = null;
        })
        .addCase(thunk.fulfilled, (state, { payload }) => {
          state.submitting = false;
          state.status = 'signedIn';
          state.user = payload;
        })
        .addCase(thunk.rejected, (state, { payload, error }) => {
          state.submitting = false;
          state.error = payload ?? toProblem(error);
        });
    }
    // Any other request refused because the session is over signs the person out
    // (sessionEndedListener forgets the tokens).
    builder.addMatcher(isSessionEndedAction, (state) => {
      state.status = 'signedOut';
      state.user = null;
    });
  },
});

/** A rejected request of another feature whose answer says the host's session is over. */
export function isSessionEndedAction(action: unknown): boolean {
  if (!isRejectedWithValue(action) || action.type.startsWith('auth/')) return false;
  const problem = action.payload as Problem | undefined;
  return problem !== undefined && isSessionEnded(problem);
}

export const { clearAuthError } = authSlice.actions;
export const authReducer = authSlice.reducer;
