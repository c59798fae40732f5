// The big 3, 2, 1 over the room before a take starts (the header's status says it to screen readers).
import { useServerNow } from '../session/useServerNow';
import { useStudioSelector } from '../state/hooks';

export function CountdownOverlay() {
  const current = useStudioSelector((s) => s.recording.current);
  const now = useServerNow(!!current, 100);
  if (!current || now >= current.startAt) return null;
  return (
    <div className="pointer-events-none fixed inset-0 z-30 flex items-center justify-center" aria-hidden="true">
      <span className="flex h-32 w-32 items-center justify-center rounded-full bg-zinc-950/70 text-7xl font-bold tabular-nums text-white shadow-2xl">
        {Math.ceil((current.startAt - now) / 1000)}
      </span>
    </div>
  );
}
