// The host's controls on a guest's tile: ask them to mute, remove them.
import { useSession } from '../session/SessionContext';

const small =
  'rounded-md bg-zinc-950/75 px-2 py-1 text-xs text-zinc-200 hover:bg-zinc-800 focus-visible:outline-2 focus-visible:outline-emerald-400';

export function HostTileActions({ participantId, name }: { participantId: string; name: string }) {
  const session = useSession();
  return (
    <>
      <button type="button" className={small} aria-label={`Ask ${name} to mute`} onClick={() => session.askToMute(participantId)}>
        Mute
      </button>
      <button
        type="button"
        className={small}
        aria-label={`Remove ${name} from the session`}
        onClick={() => {
          if (window.confirm(`Remove ${name} from this session? They will need a new invite to come back.`)) session.removeParticipant(participantId);
        }}
      >
        Remove
      </button>
    </>
  );
}
