import { useEffect } from 'react';

import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { fetchRecordings } from './recordingsSlice';

// The dashboard's sessions: one request, each item with its recorded time and latest render.
export function useRecordingList() {
  const dispatch = useAppDispatch();
  const list = useAppSelector((s) => s.recordings.list);

  useEffect(() => {
    const request = dispatch(fetchRecordings());
    return () => request.abort();
  }, [dispatch]);

  return list;
}
