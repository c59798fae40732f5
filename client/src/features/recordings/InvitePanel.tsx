import { Card } from '../../components/Card';
import { CopyField } from '../../components/CopyField';
import type { RecordingDetail } from '../../services/types';

export function InvitePanel({ recording }: { recording: RecordingDetail }) {
  return (
    <Card title="Invite guests">
      <CopyField label="Invite link" value={recording.inviteUrl} hint="Guests join with just their name; no account needed." />
    </Card>
  );
}
