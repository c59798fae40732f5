// Forgets the stored tokens when a request says the host's session is over, so a reload
// does not try them again. Kept out of the reducer, which must not touch localStorage.
import { createListenerMiddleware } from '@reduxjs/toolkit';

import { tokens } from '../../services/api';
import { isSessionEndedAction } from './authSlice';

export const sessionEndedListener = createListenerMiddleware();

sessionEndedListener.startListening({
  predicate: (action) => isSessionEndedAction(action),
  effect: () => tokens.setHost(null),
});
