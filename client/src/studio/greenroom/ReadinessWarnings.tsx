// Problems to fix before recording: no recordable format, little storage, no camera or mic.
import { useMemo } from 'react';

import { supportedRecordingTypes } from './recorderSupport';
import { useStorageEstimate } from './useStorageEstimate';

// About an hour of 720p VP9 plus Opus.
const LOW_STORAGE_BYTES = 2 * 1024 ** 3;

function gigabytes(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}

export function ReadinessWarnings({ mediaError }: { mediaError: string | null }) {
  const types = useMemo(supportedRecordingTypes, []);
  const storage = useStorageEstimate();
  const warnings: string[] = [];
  if (mediaError) warnings.push(mediaError);
  if (types.length === 0) {
    warnings.push('This browser cannot record any of the studio’s formats (WebM VP9, H.264 or VP8 with Opus, or MP4). Use a recent Chrome, Edge or Firefox to be recorded.');
  }
  if (storage && storage.freeBytes < LOW_STORAGE_BYTES) {
    warnings.push(`Low storage: only ${gigabytes(storage.freeBytes)} free for local recording. Free up disk space to record long sessions safely.`);
  }
  if (warnings.length === 0) return null;
  return (
    <ul className="flex flex-col gap-2" aria-label="Warnings">
      {warnings.map((w) => (
        <li key={w} role="alert" className="rounded-lg border border-amber-500/40 bg-amber-500/10 px-3 py-2 text-sm text-amber-200">
          {w}
        </li>
      ))}
    </ul>
  );
}
