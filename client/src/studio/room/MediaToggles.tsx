// Microphone and camera on/off (track.enabled; peers are told over the call).
import { CameraIcon, CameraOffIcon, MicIcon, MicOffIcon } from '../common/icons';
import { useSession } from '../session/SessionContext';
import { useStudioSelector } from '../state/hooks';

const toggleClass = (on: boolean) =>
  `inline-flex h-11 w-11 items-center justify-center rounded-full transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400 ${
    on ? 'bg-zinc-800 text-zinc-100 hover:bg-zinc-700' : 'bg-rose-600 text-white hover:bg-rose-500'
  }`;

export function MicrophoneToggle() {
  const session = useSession();
  const on = useStudioSelector((s) => s.room.localMedia.audio);
  return (
    <button type="button" className={toggleClass(on)} aria-pressed={!on} aria-label="Mute microphone" title={on ? 'Mute microphone' : 'Unmute microphone'} onClick={() => session.setMicrophone(!on)}>
      {on ? <MicIcon /> : <MicOffIcon />}
    </button>
  );
}

export function CameraToggle() {
  const session = useSession();
  const on = useStudioSelector((s) => s.room.localMedia.video);
  return (
    <button type="button" className={toggleClass(on)} aria-pressed={!on} aria-label="Turn camera off" title={on ? 'Turn camera off' : 'Turn camera on'} onClick={() => session.setCamera(!on)}>
      {on ? <CameraIcon /> : <CameraOffIcon />}
    </button>
  );
}
