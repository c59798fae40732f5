import { createBrowserRouter } from 'react-router-dom';

import { RequireAuth } from '../features/auth/RequireAuth';
import { DashboardPage } from '../pages/DashboardPage';
import { HomePage } from '../pages/HomePage';
import { JoinPage } from '../pages/JoinPage';
import { NewSessionPage } from '../pages/NewSessionPage';
import { NotFoundPage } from '../pages/NotFoundPage';
import { RecordingPage } from '../pages/RecordingPage';
import { RouteErrorPage } from '../pages/RouteErrorPage';
import { SignInPage } from '../pages/SignInPage';
import { SignUpPage } from '../pages/SignUpPage';
import { RootLayout } from './RootLayout';

// /join/{roomId}?invite=... is the invite link the server builds (PUBLIC_URL + path).
// /studio/{roomId} is open to guests (participant token) and the host (access token) alike:
// the studio decides which token to use.
export const router = createBrowserRouter([
  {
    element: <RootLayout />,
    errorElement: <RouteErrorPage />,
    children: [
      { path: '/', element: <HomePage /> },
      { path: '/signin', element: <SignInPage /> },
      { path: '/signup', element: <SignUpPage /> },
      { path: '/dashboard', element: <RequireAuth><DashboardPage /></RequireAuth> },
      { path: '/sessions/new', element: <RequireAuth><NewSessionPage /></RequireAuth> },
      { path: '/recordings/:roomId', element: <RequireAuth><RecordingPage /></RequireAuth> },
      { path: '/join/:roomId', element: <JoinPage /> },
      {
        path: '/studio/:roomId',
        // Loaded on demand: the studio's code (WebRTC, recording) is only needed there.
        lazy: async () => ({ Component: (await import('../studio/StudioPage')).StudioPage }),
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
