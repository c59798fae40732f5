// Free space the browser lets this site use (navigator.storage.estimate), for a low-space warning.
import { useEffect, useState } from 'react';

export interface StorageEstimate {
  freeBytes: number;
}

export function useStorageEstimate(): StorageEstimate | null {
  const [estimate, setEstimate] = useState<StorageEstimate | null>(null);
  useEffect(() => {
    let cancelled = false;
    navigator.storage
      ?.estimate?.()
      .then(({ quota, usage }) => {
        if (!cancelled && quota !== undefined) setEstimate({ freeBytes: quota - (usage ?? 0) });
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, []);
  return estimate;
}
