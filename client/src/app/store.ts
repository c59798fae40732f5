import { configureStore } from '@reduxjs/toolkit';

// The app's state. Each feature adds its slice here.
export const store = configureStore({
  reducer: {},
});

export type RootState = ReturnType<typeof store.getState>;
export type AppDispatch = typeof store.dispatch;
