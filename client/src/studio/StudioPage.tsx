// /studio/:roomId — the green room, then the room itself.
import { useEffect, useMemo, useState } from 'react';
import { useDispatch } from 'react-redux';
import { useParams } from 'react-router-dom';

import { EndedScreen } from './EndedScreen';
import { GreenRoom } from './greenroom/GreenRoom';
import { DEFAULT_CHOICE, useLocalMedia, type DeviceChoice } from './greenroom/useLocalMedia';
import { resolveIdentity, type StudioIdentity } from './identity';
import { NoAccess } from './NoAccess';
import { Room } from './room/Room';
import { SessionContext } from './session/SessionContext';
import { StudioSession } from './session/StudioSession';
import { useStudioSelector } from './state/hooks';
import { useDisplayName } from './useDisplayName';

export function StudioPage() {
  const { roomId = '' } = useParams();
  const identity = useMemo(() => resolveIdentity(roomId), [roomId]);
  if (!identity) return <NoAccess />;
  return <Studio key={roomId} roomId={roomId} identity={identity} />;
}

function Studio({ roomId, identity }: { roomId: string; identity: StudioIdentity }) {
  const dispatch = useDispatch();
  const [choice, setChoice] = useState<DeviceChoice>(DEFAULT_CHOICE);
  const media = useLocalMedia(choice);
  const name = useDisplayName(identity);
  const [session, setSession] = useState<StudioSession | null>(null);
  const ended = useStudioSelector((s) => s.room.ended);

  useEffect(() => () => session?.leave(), [session]);

  if (session && ended) return <EndedScreen ended={ended} onRejoin={() => setSession(null)} />;
  if (session) {
    return (
      <SessionContext.Provider value={session}>
        <Room selfName={name ?? 'You'} />
      </SessionContext.Provider>
    );
  }
  return (
    <GreenRoom
      name={name}
      role={identity.kind}
      media={media}
      choice={choice}
      onChoose={(c) => setChoice((old) => ({ ...old, ...c }))}
      onJoin={() => {
        if (!media.stream) return;
        const s = new StudioSession(roomId, identity, media.stream, dispatch, choice.resolution);
        s.start();
        setSession(s);
      }}
    />
  );
}
