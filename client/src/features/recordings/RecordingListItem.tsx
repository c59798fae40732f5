import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';

import { focusRing } from '../../components/focusRing';
import { StatusBadge } from '../../components/StatusBadge';
import type { RecordingListEntry } from '../../services/types';
import { formatDate, formatDuration } from './format';
import { renderSummary } from './renderSummary';

/** A session on the dashboard; the whole card opens it. */
export function RecordingListItem({ recording }: { recording: RecordingListEntry }) {
  const { recordedMs, recordingSince } = recording;
  const recorded = recordedMs + (recordingSince !== null ? Math.max(0, Date.now() - recordingSince) : 0);
  const duration = recordedMs > 0 || recordingSince !== null ? formatDuration(recorded) : '—';
  const people = recording.participantCount === 1 ? '1 participant' : `${recording.participantCount} participants`;
  return (
    <li className="relative rounded-xl border border-zinc-800 bg-zinc-900/60 p-4 transition-colors has-[a:hover]:border-zinc-600 has-[a:hover]:bg-zinc-900 sm:p-5">
      <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-2">
        <h2 className="min-w-0 break-words text-base font-semibold text-zinc-100">
          {/* The link's box covers the card, so the whole card is one target. */}
          <Link to={`/recordings/${recording.roomId}`} className={`rounded after:absolute after:inset-0 after:rounded-xl ${focusRing}`}>
            {recording.title}
          </Link>
        </h2>
        <StatusBadge status={recording.status} />
      </div>
      <dl className="mt-3 grid grid-cols-2 gap-x-4 gap-y-2 text-sm sm:grid-cols-4">
        <Meta label="Created">{formatDate(recording.createdAt)}</Meta>
        <Meta label="Duration">{duration}</Meta>
        <Meta label="Participants">{people}</Meta>
        <Meta label="Render">{renderSummary(recording)}</Meta>
      </dl>
    </li>
  );
}

function Meta({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs uppercase tracking-wide text-zinc-400">{label}</dt>
      <dd className="truncate text-zinc-300">{children}</dd>
    </div>
  );
}
