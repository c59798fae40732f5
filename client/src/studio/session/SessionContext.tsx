import { createContext, useContext } from 'react';

import type { StudioSession } from './StudioSession';

export const SessionContext = createContext<StudioSession | null>(null);

export function useSession(): StudioSession {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside the room');
  return session;
}
