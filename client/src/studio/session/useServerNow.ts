// The server's clock, re-rendering every `intervalMs` while `active`.
import { useEffect, useState } from 'react';

import { localNow } from '../../services/socket';
import { useStudioSelector } from '../state/hooks';

export function useServerNow(active: boolean, intervalMs = 200): number {
  const offset = useStudioSelector((s) => s.recording.clockOffsetMs);
  const [now, setNow] = useState(localNow);
  useEffect(() => {
    if (!active) return;
    setNow(localNow());
    const timer = setInterval(() => setNow(localNow()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return now + (offset ?? Date.now() - localNow());
}
