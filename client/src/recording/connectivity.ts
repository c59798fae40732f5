// Whether the browser thinks it is online. navigator.onLine === false is reliable ("no network
// at all"); true only means "maybe": failed requests are retried anyway.

export interface Connectivity {
  isOnline(): boolean;
  /** Calls listener on every change; returns the unsubscribe function. */
  subscribe(listener: (online: boolean) => void): () => void;
}

export const alwaysOnline: Connectivity = {
  isOnline: () => true,
  subscribe: () => () => {},
};

export function browserConnectivity(): Connectivity {
  if (typeof window === 'undefined' || typeof navigator === 'undefined') return alwaysOnline;
  return {
    isOnline: () => navigator.onLine !== false,
    subscribe(listener) {
      const online = () => listener(true);
      const offline = () => listener(false);
      window.addEventListener('online', online);
      window.addEventListener('offline', offline);
      return () => {
        window.removeEventListener('online', online);
        window.removeEventListener('offline', offline);
      };
    },
  };
}
