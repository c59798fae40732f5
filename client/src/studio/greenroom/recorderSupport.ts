// Whether this browser can record the studio's formats locally, best first.
export const RECORDING_TYPES = ['video/webm;codecs=vp9,opus', 'video/webm;codecs=h264,opus', 'video/webm;codecs=vp8,opus', 'video/mp4'] as const;

export function supportedRecordingTypes(): string[] {
  if (typeof MediaRecorder === 'undefined' || typeof MediaRecorder.isTypeSupported !== 'function') return [];
  return RECORDING_TYPES.filter((type) => MediaRecorder.isTypeSupported(type));
}
