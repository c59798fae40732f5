import { Card } from '../../components/Card';
import type { RecordingDetail } from '../../services/types';
import { formatDate } from './format';

export function ParticipantsPanel({ recording }: { recording: RecordingDetail }) {
  return (
    <Card title="Participants">
      <ul className="flex flex-col divide-y divide-zinc-800">
        {recording.participants.map((p) => (
          <li key={p.id} className="flex flex-wrap items-baseline justify-between gap-x-3 py-2 first:pt-0 last:pb-0">
            <span className="min-w-0 truncate text-zinc-100">
              {p.name}
              {p.role === 'host' && <span className="ml-2 text-xs uppercase tracking-wide text-emerald-300">Host</span>}
            </span>
            <span className="text-sm text-zinc-400">Joined {formatDate(p.joinedAt)}</span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
