import { describe, expect, it } from 'vitest';

import { ServerClock } from './clock';

/** A deterministic pseudo-random sequence in [0, 1). */
function randomSequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const TRUE_OFFSET = 1234; // the server's clock is ahead of ours by this much

/** A pong for a ping sent at local time t that took `there` ms to the server and `back` ms back. */
function exchange(t: number, there: number, back: number, processing = 1) {
  const serverReceiveTime = Math.round(t + there + TRUE_OFFSET);
  const serverSendTime = serverReceiveTime + processing;
  const receivedAt = t + there + processing + back;
  return { pong: { clientTime: t, serverReceiveTime, serverSendTime }, receivedAt };
}

describe('ServerClock', () => {
  it('is the local clock until the first pong', () => {
    const clock = new ServerClock(() => 5000);
    expect(clock.synced).toBe(false);
    expect(clock.serverNow()).toBe(5000);
  });

  it('trusts the samples with the smallest round trip over noisy, lopsided ones', () => {
    const random = randomSequence(7);
    const clock = new ServerClock(() => 0);
    let t = 1_000_000;
    let naiveSum = 0;
    for (let i = 0; i < 20; i++) {
      // congested: the way there is much slower than the way back (error up to 150 ms)
      const congested = i % 5 !== 2;
      const there = congested ? 50 + random() * 300 : 3 + random() * 2;
      const back = congested ? 5 + random() * 10 : 3 + random() * 2;
      const { pong, receivedAt } = exchange(t, there, back);
      clock.onPong(pong, receivedAt);
      naiveSum += (pong.serverReceiveTime - pong.clientTime + (pong.serverSendTime - receivedAt)) / 2;
      t += 300;
    }
    expect(Math.abs(naiveSum / 20 - TRUE_OFFSET)).toBeGreaterThan(40); // averaging everything is wrong
    expect(Math.abs(clock.offsetMs! - TRUE_OFFSET)).toBeLessThan(3);
    expect(clock.bestRoundTripMs).toBeLessThan(12);
  });

  it('maps local times to server times with the estimate', () => {
    let now = 10_000;
    const clock = new ServerClock(() => now);
    const { pong, receivedAt } = exchange(now, 10, 10, 0);
    now = receivedAt;
    clock.onPong(pong);
    expect(clock.offsetMs).toBeCloseTo(TRUE_OFFSET, 0);
    expect(clock.serverNow()).toBeCloseTo(now + TRUE_OFFSET, 0);
    expect(clock.toServerTime(50_000)).toBeCloseTo(50_000 + TRUE_OFFSET, 0);
    expect(clock.pingMessage()).toEqual({ type: 'ping', clientTime: now });
  });

  it('lets fresh samples replace a good but stale one', () => {
    const clock = new ServerClock(() => 0, { bestSamples: 1 });
    const early = exchange(0, 1, 1); // 2 ms round trip, then the clocks drift apart by 30 ms
    clock.onPong(early.pong, early.receivedAt);
    const hourLater = 3_600_000;
    const fresh = exchange(hourLater, 5, 5);
    fresh.pong.serverReceiveTime += 30;
    fresh.pong.serverSendTime += 30;
    clock.onPong(fresh.pong, fresh.receivedAt);
    expect(clock.offsetMs).toBeCloseTo(TRUE_OFFSET + 30, 0);
  });

  it('ignores impossible samples', () => {
    const clock = new ServerClock(() => 0);
    clock.onPong({ clientTime: 100, serverReceiveTime: 500, serverSendTime: 600 }, 150); // negative round trip
    clock.onPong({ clientTime: Number.NaN, serverReceiveTime: 500, serverSendTime: 500 }, 150);
    expect(clock.synced).toBe(false);
  });
});
