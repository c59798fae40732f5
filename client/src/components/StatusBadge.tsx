import type { RecordingStatus, RenderStatus } from '../services/types';

type Status = RecordingStatus | RenderStatus;

const looks: Record<Status, { label: string; className: string }> = {
  created: { label: 'Not recorded yet', className: 'bg-zinc-800 text-zinc-300' },
  recording: { label: 'Recording', className: 'bg-rose-500/15 text-rose-200' },
  recorded: { label: 'Uploading', className: 'bg-sky-500/15 text-sky-200' },
  queued: { label: 'Queued', className: 'bg-amber-400/15 text-amber-200' },
  rendering: { label: 'Rendering', className: 'bg-amber-400/15 text-amber-200' },
  running: { label: 'Rendering', className: 'bg-amber-400/15 text-amber-200' },
  ready: { label: 'Ready', className: 'bg-emerald-400/15 text-emerald-200' },
  done: { label: 'Done', className: 'bg-emerald-400/15 text-emerald-200' },
  failed: { label: 'Failed', className: 'bg-rose-500/15 text-rose-200' },
};

/** A session's or a render's status as a coloured pill with words (colour is never the only cue). */
export function StatusBadge({ status }: { status: Status }) {
  const look = looks[status] ?? { label: status, className: 'bg-zinc-800 text-zinc-300' };
  return (
    <span className={`inline-flex items-center gap-1.5 whitespace-nowrap rounded-full px-2.5 py-0.5 text-xs font-medium ${look.className}`}>
      <span aria-hidden="true" className="size-1.5 rounded-full bg-current" />
      {look.label}
    </span>
  );
}
