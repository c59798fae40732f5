import { configureStore } from '@reduxjs/toolkit';

import { studioReducer } from '../studio/state';

// The app's state. Each feature adds its slice here.
export const store = configureStore({
  reducer: {
    studio: studioReducer,
  },
});

export type RootState = ReturnType<typeof store.getState>;
export type AppDispatch = typeof store.dispatch;
