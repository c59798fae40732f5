import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'react-redux';
import { RouterProvider } from 'react-router-dom';

import { router } from './app/router';
import { store } from './app/store';
import { restoreSession } from './features/auth/authSlice';
import './index.css';

// A stored session is confirmed (and its access token refreshed) before protected pages show.
void store.dispatch(restoreSession());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Provider store={store}>
      <RouterProvider router={router} />
    </Provider>
  </StrictMode>,
);
