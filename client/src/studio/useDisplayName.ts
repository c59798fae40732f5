// The name we will appear under: a guest's from the join page, the host's from /api/me.
import { useEffect, useState } from 'react';

import { apiRequest } from '../services/api';
import type { StudioIdentity } from './identity';

export function useDisplayName(identity: StudioIdentity): string | null {
  const [hostName, setHostName] = useState<string | null>(null);
  useEffect(() => {
    if (identity.kind !== 'host') return;
    const controller = new AbortController();
    apiRequest<{ user: { name: string } }>('GET', '/api/me', undefined, { signal: controller.signal })
      .then(({ user }) => setHostName(user.name))
      .catch(() => {});
    return () => controller.abort();
  }, [identity]);
  return identity.kind === 'guest' ? (identity.name ?? 'Guest') : hostName;
}
