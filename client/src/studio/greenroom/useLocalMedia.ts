// The local camera and microphone for the chosen devices. Changing a device gets a new stream
// (and stops the old one). With no camera, or no permission for it, falls back to audio only.
import { useEffect, useState } from 'react';

import { buildMediaConstraints, type Resolution } from '../../recording/mediaSettings';

export interface DeviceChoice {
  cameraId: string | null;
  microphoneId: string | null;
  /** What the local recording is made at (the call sends at most 720p). */
  resolution: Resolution;
  /** Echo cancellation, noise suppression and automatic gain. */
  audioProcessing: boolean;
}

export const DEFAULT_CHOICE: DeviceChoice = { cameraId: null, microphoneId: null, resolution: '720p', audioProcessing: true };

export interface LocalMedia {
  stream: MediaStream | null;
  error: string | null;
  loading: boolean;
}

function constraints({ cameraId, microphoneId, resolution, audioProcessing }: DeviceChoice): MediaStreamConstraints {
  return buildMediaConstraints({
    resolution,
    audioProcessing,
    ...(cameraId ? { videoDeviceId: cameraId } : {}),
    ...(microphoneId ? { audioDeviceId: microphoneId } : {}),
  });
}

function describe(err: unknown): string {
  const name = (err as DOMException)?.name;
  if (name === 'NotAllowedError') return 'Camera and microphone access was blocked. Allow it in the address bar, then reload.';
  if (name === 'NotFoundError') return 'No camera or microphone was found.';
  if (name === 'NotReadableError') return 'Your camera or microphone is in use by another application.';
  return `Could not open your camera or microphone (${name ?? String(err)}).`;
}

async function open(choice: DeviceChoice): Promise<{ stream: MediaStream | null; error: string | null }> {
  if (!navigator.mediaDevices?.getUserMedia) return { stream: null, error: 'This browser cannot use a camera here (a secure https:// page is needed).' };
  try {
    return { stream: await navigator.mediaDevices.getUserMedia(constraints(choice)), error: null };
  } catch (err) {
    try {
      const audioOnly = await navigator.mediaDevices.getUserMedia({ audio: constraints(choice).audio });
      return { stream: audioOnly, error: `Camera unavailable: ${describe(err)} You can join with your microphone only.` };
    } catch {
      return { stream: null, error: describe(err) };
    }
  }
}

export function stopStream(stream: MediaStream | null): void {
  stream?.getTracks().forEach((t) => t.stop());
}

export function useLocalMedia(choice: DeviceChoice): LocalMedia {
  const [media, setMedia] = useState<LocalMedia>({ stream: null, error: null, loading: true });
  const { cameraId, microphoneId, resolution, audioProcessing } = choice;

  useEffect(() => {
    let cancelled = false;
    let acquired: MediaStream | null = null;
    setMedia((m) => ({ ...m, loading: true }));
    void open({ cameraId, microphoneId, resolution, audioProcessing }).then(({ stream, error }) => {
      if (cancelled) return stopStream(stream);
      acquired = stream;
      setMedia({ stream, error, loading: false });
    });
    return () => {
      cancelled = true;
      stopStream(acquired);
    };
  }, [cameraId, microphoneId, resolution, audioProcessing]);

  return media;
}
