// After a take stops: whether this participant may close the page yet. Until every chunk of
// theirs is on the server and the take is completed, leaving would put the recording at risk
// (it stays in browser storage, but only reaches the host when they come back).
import { useStudioSelector } from '../state/hooks';
import type { LocalUploads } from '../state/uploadsSlice';

function message(local: LocalUploads) {
  if (!local.safeToLeave)
    return {
      tone: 'bg-amber-500/15 text-amber-200',
      text: `Uploading your recording (${Math.min(local.uploaded, local.recorded)} of ${local.recorded} parts). Keep this page open until it is done.`,
    };
  if (local.failed > 0)
    return {
      tone: 'bg-rose-500/15 text-rose-200',
      text: `${local.failed} part${local.failed === 1 ? '' : 's'} of your recording could not be uploaded yet. They are kept in this browser and sent again when you come back.`,
    };
  return { tone: 'bg-emerald-500/15 text-emerald-200', text: 'Your recording is uploaded. It is safe to leave.' };
}

export function LeaveSafetyBanner() {
  const stopped = useStudioSelector((s) => !s.recording.current && !!s.recording.last && s.recording.last.stopAt !== null);
  const local = useStudioSelector((s) => s.uploads.local);
  const shown = stopped && local && local.recorded > 0 ? message(local) : null;
  return (
    <div role="status" aria-live="polite" data-testid="leave-safety">
      {shown && <p className={`px-4 py-2 text-center text-sm ${shown.tone}`}>{shown.text}</p>}
    </div>
  );
}
