// The cameras and microphones, kept current as devices come and go. Labels are empty until
// the page has camera/microphone permission, so the list is read again once a stream exists.
import { useEffect, useState } from 'react';

export interface DeviceLists {
  cameras: MediaDeviceInfo[];
  microphones: MediaDeviceInfo[];
}

export function useMediaDevices(permissionGranted: boolean): DeviceLists {
  const [lists, setLists] = useState<DeviceLists>({ cameras: [], microphones: [] });

  useEffect(() => {
    const devices = navigator.mediaDevices;
    if (!devices?.enumerateDevices) return;
    let cancelled = false;
    const read = async () => {
      const all = await devices.enumerateDevices();
      if (cancelled) return;
      setLists({
        cameras: all.filter((d) => d.kind === 'videoinput' && d.deviceId),
        microphones: all.filter((d) => d.kind === 'audioinput' && d.deviceId),
      });
    };
    void read();
    devices.addEventListener('devicechange', read);
    return () => {
      cancelled = true;
      devices.removeEventListener('devicechange', read);
    };
  }, [permissionGranted]);

  return lists;
}
