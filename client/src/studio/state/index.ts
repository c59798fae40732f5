// The studio's state: registered in app/store.ts as `studio`.
import { combineReducers } from '@reduxjs/toolkit';

import { chatSlice } from './chatSlice';
import { recordingSlice } from './recordingSlice';
import { roomSlice } from './roomSlice';
import { uploadsSlice } from './uploadsSlice';

export const studioReducer = combineReducers({
  room: roomSlice.reducer,
  recording: recordingSlice.reducer,
  chat: chatSlice.reducer,
  uploads: uploadsSlice.reducer,
});

export type StudioState = ReturnType<typeof studioReducer>;
