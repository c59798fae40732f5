import { useEffect } from 'react';

import { useStore } from 'react-redux';

import { useAppDispatch, useAppSelector } from '../../app/hooks';
import type { RootState } from '../../app/store';
import { fetchRecording, fetchRecordings } from './recordingsSlice';

// The list has no takes or render (docs/api.md), so the dashboard loads the details of the
// newest sessions that have been recorded, a few at a time, for their duration and render.
const DETAILS_FOR_NEWEST = 20;
const DETAILS_AT_ONCE = 3;

export function useRecordingList() {
  const dispatch = useAppDispatch();
  const list = useAppSelector((s) => s.recordings.list);
  const store = useStore<RootState>();

  useEffect(() => {
    const request = dispatch(fetchRecordings());
    return () => request.abort();
  }, [dispatch]);

  useEffect(() => {
    if (list.status !== 'loaded') return;
    const { details } = store.getState().recordings;
    // Nothing to learn from a session never recorded, or one whose settled details we have.
    const wanted = list.items
      .slice(0, DETAILS_FOR_NEWEST)
      .filter((r) => r.status !== 'created')
      .filter((r) => !(['ready', 'failed'].includes(r.status) && details[r.roomId]?.data?.status === r.status))
      .map((r) => r.roomId);
    let cancelled = false;
    const running = new Set<{ abort: () => void }>();
    async function worker() {
      for (let roomId = wanted.shift(); roomId && !cancelled; roomId = wanted.shift()) {
        const request = dispatch(fetchRecording(roomId));
        running.add(request);
        await request;
        running.delete(request);
      }
    }
    for (let i = 0; i < DETAILS_AT_ONCE; i++) void worker();
    return () => {
      cancelled = true;
      for (const request of running) request.abort();
    };
  }, [dispatch, store, list.status, list.items]);

  return list;
}
