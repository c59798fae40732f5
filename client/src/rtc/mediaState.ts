// The protocol has no message for "my microphone / camera is off", so peers tell each other over
// a small data channel of their own connection (negotiated, id 0, on both sides).

export interface MediaState {
  audio: boolean;
  video: boolean;
}

export interface MediaStateMessage extends MediaState {
  type: 'media-state';
}

export const STATE_CHANNEL = { label: 'zencast-state', id: 0 } as const;

export function parseMediaState(data: unknown): MediaState | null {
  if (typeof data !== 'string') return null;
  try {
    const m = JSON.parse(data) as Partial<MediaStateMessage>;
    if (m.type !== 'media-state' || typeof m.audio !== 'boolean' || typeof m.video !== 'boolean') return null;
    return { audio: m.audio, video: m.video };
  } catch {
    return null;
  }
}

export function mediaStateMessage(state: MediaState): string {
  return JSON.stringify({ type: 'media-state', ...state } satisfies MediaStateMessage);
}

/** What the local stream's tracks say: enabled and live. */
export function mediaStateOf(stream: MediaStream | null): MediaState {
  const on = (tracks: MediaStreamTrack[]) => tracks.some((t) => t.enabled && t.readyState === 'live');
  return { audio: on(stream?.getAudioTracks() ?? []), video: on(stream?.getVideoTracks() ?? []) };
}
