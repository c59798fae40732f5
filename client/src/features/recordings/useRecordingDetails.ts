import { useEffect } from 'react';

import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { isSessionEnded } from '../../services/problems';
import { isChanging, nextDelay, POLL_MIN_MS, POLL_MAX_MS, progressKey } from './polling';
import { fetchRecording } from './recordingsSlice';

// The download links are signed for `expiresIn` seconds: fetch fresh ones before they lapse.
const LINK_REFRESH_SHARE = 0.8;

/**
 * A session's details, loaded on arrival and polled while something changes (a render, uploads),
 * less often the longer nothing moves. Polling stops once all is settled and when the page is left.
 */
export function useRecordingDetails(roomId: string) {
  const dispatch = useAppDispatch();
  const entry = useAppSelector((s) => s.recordings.details[roomId]);
  const renderEpoch = entry?.renderEpoch ?? 0;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight: { abort: () => void } | undefined;
    let delay = POLL_MIN_MS;
    let lastKey = '';

    async function poll() {
      const request = dispatch(fetchRecording(roomId));
      inFlight = request;
      const result = await request;
      inFlight = undefined;
      if (stopped) return;
      if (fetchRecording.fulfilled.match(result)) {
        const recording = result.payload;
        const key = progressKey(recording);
        if (isChanging(recording)) {
          delay = nextDelay(delay, key !== lastKey);
          lastKey = key;
          timer = setTimeout(poll, delay);
        } else if (recording.downloads) {
          timer = setTimeout(poll, recording.downloads.expiresIn * 1000 * LINK_REFRESH_SHARE);
        }
      } else if (result.payload && result.payload.status !== 404 && !isSessionEnded(result.payload)) {
        // A network blip or a busy server: try again, backing off.
        delay = nextDelay(delay, false);
        timer = setTimeout(poll, Math.max(delay, POLL_MAX_MS / 2));
      }
    }

    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      inFlight?.abort();
    };
  }, [dispatch, roomId, renderEpoch]);

  return entry;
}
