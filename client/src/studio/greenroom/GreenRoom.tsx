// Before joining: check camera and microphone, pick devices, see warnings, then join.
import type { LocalMedia, DeviceChoice } from './useLocalMedia';
import { Avatar } from '../common/Avatar';
import { Button } from '../common/Button';
import { VideoView } from '../common/VideoView';
import { DeviceSelect } from './DeviceSelect';
import { LevelMeter } from './LevelMeter';
import { ReadinessWarnings } from './ReadinessWarnings';
import { RecordingFormatNote } from './RecordingFormatNote';
import { RecordingOptions } from './RecordingOptions';
import { useMediaDevices } from './useMediaDevices';

interface Props {
  name: string | null;
  role: 'host' | 'guest';
  media: LocalMedia;
  choice: DeviceChoice;
  onChoose: (choice: Partial<DeviceChoice>) => void;
  onJoin: () => void;
}

function deviceIdOf(track: MediaStreamTrack | undefined): string | null {
  return track?.getSettings().deviceId ?? null;
}

export function GreenRoom({ name, role, media, choice, onChoose, onJoin }: Props) {
  const { stream, error, loading } = media;
  const { cameras, microphones } = useMediaDevices(!!stream);
  const videoTrack = stream?.getVideoTracks()[0];

  return (
    <main className="mx-auto flex min-h-dvh w-full max-w-5xl flex-col gap-6 px-4 py-6 sm:px-6 lg:py-10">
      <header>
        <p className="text-sm text-emerald-400">Green room</p>
        <h1 className="text-2xl font-semibold">Check your camera and microphone</h1>
      </header>
      <div className="grid gap-6 md:grid-cols-[3fr_2fr]">
        <div className="relative aspect-video w-full overflow-hidden rounded-2xl border border-zinc-800 bg-zinc-900">
          {videoTrack ? <VideoView stream={stream} self label="Your camera preview" /> : <Avatar name={name ?? '?'} />}
          {loading && <p className="absolute inset-x-0 bottom-3 text-center text-sm text-zinc-300">Starting camera…</p>}
        </div>
        <section aria-label="Devices" className="flex min-w-0 flex-col gap-4">
          <DeviceSelect label="Camera" devices={cameras} value={deviceIdOf(videoTrack)} onChange={(cameraId) => onChoose({ cameraId })} disabled={loading} />
          <DeviceSelect
            label="Microphone"
            devices={microphones}
            value={deviceIdOf(stream?.getAudioTracks()[0])}
            onChange={(microphoneId) => onChoose({ microphoneId })}
            disabled={loading}
          />
          <LevelMeter stream={stream} />
          <RecordingOptions resolution={choice.resolution} audioProcessing={choice.audioProcessing} onChange={onChoose} disabled={loading} />
          <ReadinessWarnings mediaError={error} />
          <RecordingFormatNote />
          <div className="mt-auto flex flex-col gap-3 border-t border-zinc-800 pt-4">
            <p className="text-sm text-zinc-300">
              You’ll join as <strong className="text-zinc-100">{name ?? '…'}</strong>
              {role === 'host' && <span className="ml-2 rounded bg-emerald-500/15 px-1.5 py-0.5 text-xs text-emerald-300">Host</span>}
            </p>
            <Button variant="primary" className="w-full py-3 text-base" onClick={onJoin} disabled={!stream || loading}>
              Join
            </Button>
          </div>
        </section>
      </div>
    </main>
  );
}
