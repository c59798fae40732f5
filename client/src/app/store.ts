import { configureStore } from '@reduxjs/toolkit';

import { authReducer } from '../features/auth/authSlice';
import { sessionEndedListener } from '../features/auth/sessionEndedListener';
import { joinReducer } from '../features/guest/joinSlice';
import { recordingsReducer } from '../features/recordings/recordingsSlice';
import { recordingReducer } from '../recording/recordingSlice';
import { studioReducer } from '../studio/state';

// The app's state. Each feature adds its slice here.
export const store = configureStore({
  reducer: {
    auth: authReducer,
    recordings: recordingsReducer,
    join: joinReducer,
    recording: recordingReducer,
    studio: studioReducer,
  },
  middleware: (getDefault) => getDefault().prepend(sessionEndedListener.middleware),
});

export type RootState = ReturnType<typeof store.getState>;
export type AppDispatch = typeof store.dispatch;
