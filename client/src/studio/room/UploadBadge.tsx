// A participant's upload progress, once a take has been recorded. Until the recorder reports
// anything, a placeholder says so.
import { selectUploadFor } from '../state/selectors';
import { useStudioSelector } from '../state/hooks';

export function UploadBadge({ participantId }: { participantId: string }) {
  const progress = useStudioSelector((s) => selectUploadFor(s, participantId));
  const anyTake = useStudioSelector((s) => !!(s.recording.current || s.recording.last));
  if (!progress && !anyTake) return null;
  if (!progress) {
    return (
      <p className="rounded bg-zinc-950/70 px-2 py-0.5 text-xs text-zinc-400" data-testid="upload-status">
        Upload: waiting for recorder
      </p>
    );
  }
  const { recorded, uploaded } = progress;
  const done = recorded > 0 && uploaded >= recorded;
  return (
    <div className="flex items-center gap-2 rounded bg-zinc-950/70 px-2 py-0.5 text-xs text-zinc-300" data-testid="upload-status">
      <span>{done ? 'Uploaded' : 'Uploading'}</span>
      <progress className="h-1.5 w-14 accent-emerald-400" max={Math.max(recorded, 1)} value={uploaded} aria-label="Upload progress">
        {uploaded} of {recorded}
      </progress>
      <span className="tabular-nums">
        {uploaded}/{recorded}
      </span>
    </div>
  );
}
