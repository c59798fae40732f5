import { useEffect, useRef } from 'react';

interface Props {
  stream: MediaStream | null;
  /** Our own preview: silent and mirrored like a mirror. */
  self?: boolean;
  label: string;
  hidden?: boolean;
}

export function VideoView({ stream, self = false, label, hidden = false }: Props) {
  const ref = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    const video = ref.current;
    if (!video || video.srcObject === stream) return;
    video.srcObject = stream;
    if (stream) video.play().catch(() => {
      /* autoplay refused; the next user gesture or track event plays it */
    });
  }, [stream]);

  return (
    <video
      ref={ref}
      autoPlay
      playsInline
      muted={self}
      aria-label={label}
      className={`absolute inset-0 h-full w-full bg-black object-cover ${self ? '-scale-x-100' : ''} ${hidden ? 'invisible' : ''}`}
    />
  );
}
