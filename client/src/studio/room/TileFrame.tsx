// A participant's tile: video (or their avatar when the camera is off), name and badges.
import type { ReactNode } from 'react';

import { Avatar } from '../common/Avatar';
import { MicOffIcon } from '../common/icons';
import { VideoView } from '../common/VideoView';

interface Props {
  participantId: string | null;
  name: string;
  isSelf: boolean;
  isHost: boolean;
  stream: MediaStream | null;
  cameraOn: boolean;
  micOn: boolean;
  /** Shown over the video, e.g. "Connecting…". */
  status?: string | null;
  corner?: ReactNode;
  actions?: ReactNode;
}

export function TileFrame({ participantId, name, isSelf, isHost, stream, cameraOn, micOn, status, corner, actions }: Props) {
  const label = `${name}${isSelf ? ' (you)' : ''}${isHost ? ', host' : ''}`;
  const showVideo = !!stream && stream.getVideoTracks().length > 0 && cameraOn;
  return (
    <figure
      aria-label={label}
      data-testid={isSelf ? 'self-tile' : 'participant-tile'}
      data-participant-id={participantId ?? undefined}
      data-name={name}
      className="relative aspect-video w-full overflow-hidden rounded-xl border border-zinc-800 bg-zinc-900"
    >
      {stream && <VideoView stream={stream} self={isSelf} label={`Video of ${name}`} hidden={!showVideo} />}
      {!showVideo && <Avatar name={name} />}
      {status && (
        <p role="status" className="absolute inset-x-0 top-2 mx-auto w-fit rounded-full bg-zinc-950/75 px-3 py-1 text-xs text-zinc-300">
          {status}
        </p>
      )}
      <div className="absolute inset-x-2 bottom-2 flex items-end justify-between gap-2">
        <figcaption className="flex min-w-0 items-center gap-1.5 rounded-md bg-zinc-950/70 px-2 py-1 text-sm">
          {!micOn && <MicOffIcon className="h-4 w-4 shrink-0 text-rose-400" />}
          {!micOn && <span className="sr-only">Microphone off.</span>}
          <span className="truncate">{name}</span>
          {isSelf && <span className="shrink-0 text-zinc-400">(you)</span>}
          {isHost && <span className="shrink-0 rounded bg-emerald-500/20 px-1 text-xs text-emerald-300">Host</span>}
        </figcaption>
        {corner && <div className="shrink-0">{corner}</div>}
      </div>
      {actions && <div className="absolute top-2 right-2 flex gap-1">{actions}</div>}
    </figure>
  );
}
