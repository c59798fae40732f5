// The offset between our clock (localNow) and the server's, estimated NTP-style from ping/pong
// samples: the sample with the smallest round trip among the recent ones wins, since its
// error is at most half its round trip.

interface Sample {
  offset: number;
  roundTrip: number;
}

const KEEP_SAMPLES = 20;

export class ServerClock {
  private samples: Sample[] = [];
  private fallbackOffset: number | null = null;

  /** A rough offset from a single server timestamp (e.g. `joined.serverTime`), until pongs come. */
  roughly(serverTime: number, localTime: number): void {
    this.fallbackOffset = serverTime - localTime;
  }

  /** One pong: see onPong in services/socket. */
  add(sentAtLocal: number, serverTime: number, receivedAtLocal: number, serverProcessingMs: number): void {
    const sample = {
      offset: serverTime - (sentAtLocal + receivedAtLocal) / 2,
      roundTrip: receivedAtLocal - sentAtLocal - serverProcessingMs,
    };
    this.samples = [...this.samples.slice(-(KEEP_SAMPLES - 1)), sample];
  }

  /** serverNow ≈ localNow + offset; null before any sample. */
  get offset(): number | null {
    if (this.samples.length === 0) return this.fallbackOffset;
    return this.samples.reduce((best, s) => (s.roundTrip < best.roundTrip ? s : best)).offset;
  }
}
