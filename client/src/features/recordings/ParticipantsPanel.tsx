import { Card } from '../../components/Card';
import type { RecordingDetail } from '../../services/types';
import { formatDate } from './format';

export function ParticipantsPanel({ recording }: { recording: RecordingDetail }) {
  return (
    <Card title="Participants">
      <ul className="flex flex-col divide-y divide-zinc-800">
        {recording.participants.map((p) => (
          <li key={p.id} className="flex flex-col py-2 first:pt-0 last:pb-0">
            <span className="flex min-w-0 items-baseline gap-2">
              <span className="truncate text-zinc-100">{p.name}</span>
              {p.role === 'host' && <span className="text-xs uppercase tracking-wide text-emerald-300">Host</span>}
            </span>
            <span className="text-sm text-zinc-400">Joined {formatDate(p.joinedAt)}</span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
