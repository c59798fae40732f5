import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';

import { useAppSelector } from '../../app/hooks';
import { LoadingState } from '../../components/LoadingState';

/** Shows its children to a signed-in host; sends anyone else to sign in, and back here after. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const status = useAppSelector((s) => s.auth.status);
  const location = useLocation();
  if (status === 'checking') return <LoadingState label="Checking your session…" />;
  if (status === 'signedOut') return <Navigate to="/signin" replace state={{ from: location }} />;
  return children;
}

/** Where to go after signing in: the page that asked for it, else the dashboard. */
export function returnPath(state: unknown): string {
  const from = (state as { from?: { pathname?: string; search?: string } } | null)?.from;
  return from?.pathname ? `${from.pathname}${from.search ?? ''}` : '/dashboard';
}
