import { ButtonLink } from '../../components/ButtonLink';
import { CopyField } from '../../components/CopyField';
import { TextLink } from '../../components/TextLink';
import type { RecordingSummary } from '../../services/types';

/** After creating a session: the link for guests, and the way into the studio. */
export function SessionCreated({ recording }: { recording: RecordingSummary }) {
  return (
    <div className="flex flex-col gap-5 rounded-xl border border-zinc-800 bg-zinc-900/60 p-5 sm:p-6">
      <CopyField
        label="Invite link for your guests"
        value={recording.inviteUrl}
        hint="Anyone with this link can join, so share it only with your guests."
      />
      <ButtonLink to={`/studio/${recording.roomId}`} className="w-full">
        Enter studio
      </ButtonLink>
      <p className="text-center text-sm text-zinc-400">
        Or <TextLink to={`/recordings/${recording.roomId}`}>open the session's page</TextLink> to come back to it later.
      </p>
    </div>
  );
}
