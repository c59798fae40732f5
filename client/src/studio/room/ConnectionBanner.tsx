// Tells everyone when the link to the studio server is down (the call itself may still flow).
import { useStudioSelector } from '../state/hooks';

export function ConnectionBanner() {
  const { status, attempt } = useStudioSelector((s) => s.room.connection);
  const text =
    status === 'reconnecting'
      ? `Reconnecting…${attempt > 1 ? ` (attempt ${attempt})` : ''}`
      : status === 'connecting'
        ? 'Connecting to the studio…'
        : null;
  return (
    <div role="status" aria-live="polite" data-testid="connection-banner">
      {text && (
        <p className={`px-4 py-2 text-center text-sm ${status === 'reconnecting' ? 'bg-amber-500/15 text-amber-200' : 'bg-zinc-800 text-zinc-300'}`}>{text}</p>
      )}
    </div>
  );
}
