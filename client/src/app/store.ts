import { configureStore } from '@reduxjs/toolkit';
import { recordingReducer } from '../recording/recordingSlice';

// The app's state. Each feature adds its slice here.
export const store = configureStore({
  reducer: { recording: recordingReducer },
});

export type RootState = ReturnType<typeof store.getState>;
export type AppDispatch = typeof store.dispatch;
