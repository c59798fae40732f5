// How this participant's local recording is made: its picture size, and whether the browser
// cleans up the microphone (echo cancellation, noise suppression, automatic gain), which
// helps on laptop speakers and hurts a good microphone with headphones.
import { useId } from 'react';

import type { Resolution } from '../../recording/mediaSettings';

interface Props {
  resolution: Resolution;
  audioProcessing: boolean;
  onChange: (choice: { resolution?: Resolution; audioProcessing?: boolean }) => void;
  disabled?: boolean;
}

const RESOLUTIONS: Array<{ value: Resolution; label: string }> = [
  { value: '720p', label: '720p HD' },
  { value: '1080p', label: '1080p Full HD (more storage and upload)' },
];

export function RecordingOptions({ resolution, audioProcessing, onChange, disabled }: Props) {
  const qualityId = useId();
  const processingId = useId();
  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-col gap-1">
        <label htmlFor={qualityId} className="text-sm text-zinc-400">
          Recording quality
        </label>
        <select
          id={qualityId}
          value={resolution}
          disabled={disabled}
          onChange={(e) => onChange({ resolution: e.target.value as Resolution })}
          className="w-full min-w-0 truncate rounded-lg border border-zinc-700 bg-zinc-900 px-3 py-2 text-sm text-zinc-100 focus-visible:outline-2 focus-visible:outline-emerald-400"
        >
          {RESOLUTIONS.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </div>
      <div className="flex items-start gap-2">
        <input
          id={processingId}
          type="checkbox"
          checked={audioProcessing}
          disabled={disabled}
          onChange={(e) => onChange({ audioProcessing: e.target.checked })}
          className="mt-0.5 h-4 w-4 accent-emerald-500 focus-visible:outline-2 focus-visible:outline-emerald-400"
        />
        <label htmlFor={processingId} className="text-sm text-zinc-300">
          Clean up my microphone
          <span className="block text-xs text-zinc-500">Echo cancellation and noise suppression. Turn off with headphones and a good microphone.</span>
        </label>
      </div>
    </div>
  );
}
