// What the local recording is made of: the container and codecs MediaRecorder should use, the
// camera and microphone constraints, and the bitrates. The recording does not depend on the
// call's quality: the call may send less, the file keeps this.

/**
 * Best first. VP9 and H.264 encode 720p in real time on modest machines (VP8 often does not);
 * Chromium accepts video/webm;codecs=h264,opus but records Matroska, so both spellings are
 * listed. The server takes video/webm, video/x-matroska and video/mp4 (and the audio/ ones).
 */
export const VIDEO_TYPES = [
  'video/webm;codecs=vp9,opus',
  'video/x-matroska;codecs=avc1,opus',
  'video/webm;codecs=h264,opus',
  'video/webm;codecs=vp8,opus',
  'video/mp4;codecs=avc1,opus',
  'video/mp4;codecs=avc1,mp4a.40.2',
  'video/mp4',
] as const;

/** For a participant without a camera. */
export const AUDIO_TYPES = ['audio/webm;codecs=opus', 'audio/mp4;codecs=opus', 'audio/mp4'] as const;

const SERVER_TYPES = ['video/webm', 'audio/webm', 'video/x-matroska', 'video/mp4', 'audio/mp4'];

export class UnsupportedRecorderError extends Error {
  readonly code = 'recorder_unsupported';
  constructor() {
    super('This browser cannot record WebM, Matroska or MP4: use a recent Chrome, Edge, Firefox or Safari.');
    this.name = 'UnsupportedRecorderError';
  }
}

/** The first type of the list that the browser can record. */
export function pickMimeType(isTypeSupported: (type: string) => boolean, { audioOnly = false } = {}): string {
  const candidates: readonly string[] = audioOnly ? AUDIO_TYPES : VIDEO_TYPES;
  const supported = candidates.find((type) => isTypeSupported(type));
  if (!supported) throw new UnsupportedRecorderError();
  return supported;
}

/**
 * The recorder's actual type as the presign accepts it: Chromium reports e.g.
 * "video/x-matroska;codecs=avc1.64001F,opus", Safari puts quotes around the codecs, which the
 * server refuses. Falls back to the type we asked for when the reported one is unusable.
 */
export function uploadContentType(reported: string, requested: string): string {
  const cleaned = reported.replace(/["\s]/g, '');
  const base = cleaned.split(';')[0].toLowerCase();
  return SERVER_TYPES.includes(base) && /^[A-Za-z0-9/;=,.+-]+$/.test(cleaned) ? cleaned : requested;
}

export type Resolution = '720p' | '1080p';

export interface CaptureSettings {
  resolution: Resolution;
  /** Echo cancellation, noise suppression and automatic gain: on for laptops without headphones. */
  audioProcessing: boolean;
  /** false: record the microphone only. */
  video: boolean;
  frameRate: number;
  videoDeviceId?: string;
  audioDeviceId?: string;
}

export const DEFAULT_CAPTURE: CaptureSettings = { resolution: '720p', audioProcessing: true, video: true, frameRate: 30 };

const SIZES: Record<Resolution, { width: number; height: number }> = {
  '720p': { width: 1280, height: 720 },
  '1080p': { width: 1920, height: 1080 },
};

/** getUserMedia constraints for the local recording. */
export function buildMediaConstraints(settings: Partial<CaptureSettings> = {}): MediaStreamConstraints {
  const s = { ...DEFAULT_CAPTURE, ...settings };
  const { width, height } = SIZES[s.resolution];
  const audio: MediaTrackConstraints = {
    echoCancellation: s.audioProcessing,
    noiseSuppression: s.audioProcessing,
    autoGainControl: s.audioProcessing,
    channelCount: { ideal: 1 },
    sampleRate: { ideal: 48000 },
    ...(s.audioDeviceId ? { deviceId: { exact: s.audioDeviceId } } : {}),
  };
  const video: MediaTrackConstraints = {
    width: { ideal: width },
    height: { ideal: height },
    frameRate: { ideal: s.frameRate },
    ...(s.videoDeviceId ? { deviceId: { exact: s.videoDeviceId } } : {}),
  };
  return { audio, video: s.video ? video : false };
}

const VIDEO_BITRATE: Record<Resolution, number> = { '720p': 4_000_000, '1080p': 8_000_000 };
const AUDIO_BITRATE = 128_000;

export function recorderBitrates(resolution: Resolution, video = true): { videoBitsPerSecond?: number; audioBitsPerSecond: number } {
  return video ? { videoBitsPerSecond: VIDEO_BITRATE[resolution], audioBitsPerSecond: AUDIO_BITRATE } : { audioBitsPerSecond: AUDIO_BITRATE };
}

/** Roughly how fast the recording fills storage. */
export function recordingBytesPerSecond(resolution: Resolution, video = true): number {
  const { videoBitsPerSecond = 0, audioBitsPerSecond } = recorderBitrates(resolution, video);
  return (videoBitsPerSecond + audioBitsPerSecond) / 8;
}
