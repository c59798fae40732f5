// The server's clock, estimated from ping/pong (docs/protocol.md, "Clock sync").
//
// Each pong gives one NTP-style sample: offset = ((serverReceive - clientSend) +
// (serverSend - clientReceive)) / 2, whose error is at most half the round trip. The estimate
// averages the few samples with the smallest round trip (the most trustworthy ones), which
// also smooths it: it moves only when a better sample arrives. Old samples count as if their
// round trip were a little longer (0.1 ms per second of age, i.e. clocks that drift apart by up
// to 100 ppm), so a fresh sample eventually replaces a stale one.
//
// The socket belongs to the studio: it sends clock.pingMessage() a few times a few hundred ms
// apart (and again every minute or so) and hands every pong to clock.onPong(message).

export interface PongMessage {
  clientTime: number;
  serverReceiveTime: number;
  serverSendTime: number;
}

interface Sample {
  offset: number;
  roundTrip: number;
  receivedAt: number;
}

export interface ClockOptions {
  maxSamples?: number;
  bestSamples?: number;
  agePenaltyMsPerSecond?: number;
}

/** A monotonic local clock in epoch milliseconds: wall-clock changes do not move it. */
export const monotonicNow = (): number => performance.timeOrigin + performance.now();

export class ServerClock {
  private samples: Sample[] = [];
  private offset: number | null = null;
  private readonly maxSamples: number;
  private readonly bestSamples: number;
  private readonly agePenalty: number;

  constructor(
    readonly localNow: () => number = monotonicNow,
    { maxSamples = 32, bestSamples = 3, agePenaltyMsPerSecond = 0.1 }: ClockOptions = {},
  ) {
    this.maxSamples = maxSamples;
    this.bestSamples = bestSamples;
    this.agePenalty = agePenaltyMsPerSecond / 1000;
  }

  /** The ping to send: its clientTime is on this clock's local time base. */
  pingMessage(): { type: 'ping'; clientTime: number } {
    return { type: 'ping', clientTime: this.localNow() };
  }

  /** A pong from the server; receivedAt is when it arrived (local time). */
  onPong(pong: PongMessage, receivedAt: number = this.localNow()): void {
    const { clientTime, serverReceiveTime, serverSendTime } = pong;
    const roundTrip = receivedAt - clientTime - (serverSendTime - serverReceiveTime);
    if (![clientTime, serverReceiveTime, serverSendTime, roundTrip].every(Number.isFinite) || roundTrip < 0) return;
    const offset = (serverReceiveTime - clientTime + (serverSendTime - receivedAt)) / 2;
    this.samples.push({ offset, roundTrip, receivedAt });
    if (this.samples.length > this.maxSamples) this.samples.shift();
    this.offset = this.estimate(receivedAt);
  }

  /** Server time minus local time, in ms; null before the first pong. */
  get offsetMs(): number | null {
    return this.offset;
  }

  get synced(): boolean {
    return this.offset !== null;
  }

  /** The smallest round trip seen among the kept samples (the estimate's error is at most half). */
  get bestRoundTripMs(): number | null {
    return this.samples.length ? Math.min(...this.samples.map((s) => s.roundTrip)) : null;
  }

  /** Now on the server's clock (the local clock until the first pong). */
  serverNow(): number {
    return this.toServerTime(this.localNow());
  }

  /** A local instant (from localNow) on the server's clock. */
  toServerTime(localMs: number): number {
    return localMs + (this.offset ?? 0);
  }

  private estimate(now: number): number {
    const score = (s: Sample) => s.roundTrip + (now - s.receivedAt) * this.agePenalty;
    const best = [...this.samples].sort((a, b) => score(a) - score(b)).slice(0, this.bestSamples);
    // Weighted towards the shortest round trips: a 2 ms sample counts more than a 40 ms one.
    let sum = 0;
    let weights = 0;
    for (const s of best) {
      const weight = 1 / (1 + score(s));
      sum += s.offset * weight;
      weights += weight;
    }
    return sum / weights;
  }
}

/** The app's clock: the studio feeds it, the recorder reads it. */
export const serverClock = new ServerClock();
