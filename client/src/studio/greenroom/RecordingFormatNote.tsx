import { useMemo } from 'react';

import { supportedRecordingTypes } from './recorderSupport';

const names: Record<string, string> = {
  'video/webm;codecs=vp9,opus': 'WebM (VP9, Opus)',
  'video/webm;codecs=h264,opus': 'WebM (H.264, Opus)',
  'video/webm;codecs=vp8,opus': 'WebM (VP8, Opus)',
  'video/mp4': 'MP4',
};

/** Which format this browser will record in, when it can record at all. */
export function RecordingFormatNote() {
  const best = useMemo(() => supportedRecordingTypes()[0], []);
  if (!best) return null;
  return <p className="text-xs text-zinc-500">Your recording is made on this device in {names[best]} and uploaded as you go.</p>;
}
