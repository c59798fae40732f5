import type { RecordingDetail } from '../../services/types';

/** A participant's display name, from the session's participants list. */
export function participantName(recording: RecordingDetail, participantId: string): string {
  const p = recording.participants.find((x) => x.id === participantId);
  if (!p) return 'Former participant';
  return p.role === 'host' ? `${p.name} (host)` : p.name;
}
