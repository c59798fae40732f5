import { useAudioLevel } from './useAudioLevel';

export function LevelMeter({ stream }: { stream: MediaStream | null }) {
  const level = useAudioLevel(stream);
  const percent = Math.round(level * 100);
  return (
    <div className="flex flex-col gap-1">
      <span id="mic-level-label" className="text-sm text-zinc-400">
        Microphone level
      </span>
      <div
        role="meter"
        aria-labelledby="mic-level-label"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        className="h-2.5 w-full overflow-hidden rounded-full bg-zinc-800"
      >
        <div
          className={`h-full rounded-full transition-[width] duration-75 ${level > 0.9 ? 'bg-rose-500' : 'bg-emerald-400'}`}
          style={{ width: `${percent}%` }}
        />
      </div>
    </div>
  );
}
