import { LOCAL_STREAM, useStream } from '../media/streamRegistry';
import { useStudioSelector } from '../state/hooks';
import { TileFrame } from './TileFrame';
import { UploadBadge } from './UploadBadge';

export function SelfTile({ fallbackName }: { fallbackName: string }) {
  const stream = useStream(LOCAL_STREAM);
  const self = useStudioSelector((s) => s.room.self);
  const media = useStudioSelector((s) => s.room.localMedia);
  return (
    <TileFrame
      participantId={self?.id ?? null}
      name={self?.name ?? fallbackName}
      isSelf
      isHost={self?.role === 'host'}
      stream={stream}
      cameraOn={media.video}
      micOn={media.audio}
      corner={self && <UploadBadge participantId={self.id} />}
    />
  );
}
