// The take as everyone sees it: the countdown to the start, then the running time from the
// server's start instant; after a stop, how long the take was.
import { formatDuration } from '../common/formatDuration';
import { useServerNow } from '../session/useServerNow';
import { useStudioSelector } from '../state/hooks';

export function RecordingStatus() {
  const current = useStudioSelector((s) => s.recording.current);
  const last = useStudioSelector((s) => s.recording.last);
  const now = useServerNow(!!current);

  if (current && now < current.startAt) {
    return (
      <p role="status" data-testid="recording-countdown" className="rounded-full bg-amber-500/15 px-3 py-1 text-sm font-medium text-amber-200">
        Recording starts in {Math.ceil((current.startAt - now) / 1000)}
      </p>
    );
  }
  if (current) {
    return (
      <p className="flex items-center gap-2 rounded-full bg-red-600/20 px-3 py-1 text-sm font-medium text-red-200">
        <span className="h-2.5 w-2.5 animate-pulse rounded-full bg-red-500" aria-hidden="true" />
        <span className="sr-only">Recording</span>
        <span role="timer" aria-label="Recording time" data-testid="recording-timer" className="tabular-nums">
          {formatDuration(now - current.startAt)}
        </span>
      </p>
    );
  }
  if (last && last.stopAt !== null) {
    return (
      <p role="status" data-testid="recording-stopped" className="rounded-full bg-zinc-800 px-3 py-1 text-sm text-zinc-300">
        Stopped · <span className="tabular-nums">{formatDuration(last.stopAt - last.startAt)}</span>
      </p>
    );
  }
  return null;
}
