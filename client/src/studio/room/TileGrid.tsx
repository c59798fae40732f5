import { selectIsHost, selectParticipants } from '../state/selectors';
import { useStudioSelector } from '../state/hooks';
import { RemoteTile } from './RemoteTile';
import { SelfTile } from './SelfTile';

export function TileGrid({ selfName }: { selfName: string }) {
  const participants = useStudioSelector(selectParticipants);
  const selfId = useStudioSelector((s) => s.room.self?.id);
  const isHost = useStudioSelector(selectIsHost);
  const others = participants.filter((p) => p.id !== selfId);
  const columns = others.length === 0 ? 'max-w-3xl' : others.length <= 3 ? 'sm:grid-cols-2' : 'sm:grid-cols-2 xl:grid-cols-3';
  return (
    <section aria-label="Participants" className={`mx-auto my-auto grid w-full grid-cols-1 content-start gap-3 ${columns}`}>
      <SelfTile fallbackName={selfName} />
      {others.map((p) => (
        <RemoteTile key={p.id} participant={p} viewerIsHost={isHost} />
      ))}
    </section>
  );
}
