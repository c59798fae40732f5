import { useStream } from '../media/streamRegistry';
import type { StudioParticipant } from '../state/roomSlice';
import { HostTileActions } from './HostTileActions';
import { TileFrame } from './TileFrame';
import { UploadBadge } from './UploadBadge';

function linkStatus(link: RTCPeerConnectionState | null, hasStream: boolean): string | null {
  if (link === 'connected') return null;
  if (link === 'disconnected' || link === 'failed') return 'Reconnecting…';
  return hasStream ? null : 'Connecting…';
}

export function RemoteTile({ participant, viewerIsHost }: { participant: StudioParticipant; viewerIsHost: boolean }) {
  const stream = useStream(participant.id);
  const media = participant.media ?? { audio: true, video: true };
  return (
    <TileFrame
      participantId={participant.id}
      name={participant.name}
      isSelf={false}
      isHost={participant.role === 'host'}
      stream={stream}
      cameraOn={media.video}
      micOn={media.audio}
      status={linkStatus(participant.link, !!stream)}
      corner={viewerIsHost && <UploadBadge participantId={participant.id} />}
      actions={viewerIsHost && participant.role !== 'host' && <HostTileActions participantId={participant.id} name={participant.name} />}
    />
  );
}
