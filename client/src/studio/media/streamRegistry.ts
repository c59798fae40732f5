// MediaStreams are not serialisable, so they live here rather than in the Redux store: the
// local stream under LOCAL_STREAM, each remote participant's under their id.
import { useSyncExternalStore } from 'react';

export const LOCAL_STREAM = 'local';

const streams = new Map<string, MediaStream>();
const listeners = new Set<() => void>();

export const streamRegistry = {
  get(key: string): MediaStream | null {
    return streams.get(key) ?? null;
  },
  set(key: string, stream: MediaStream | null): void {
    if (stream) streams.set(key, stream);
    else streams.delete(key);
    for (const listener of listeners) listener();
  },
  clear(): void {
    streams.clear();
    for (const listener of listeners) listener();
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useStream(key: string): MediaStream | null {
  return useSyncExternalStore(streamRegistry.subscribe, () => streamRegistry.get(key));
}
