import { describe, expect, it } from 'vitest';

import { ServerClock } from './serverClock';

describe('ServerClock', () => {
  it('uses the rough offset until a pong arrives', () => {
    const clock = new ServerClock();
    expect(clock.offset).toBeNull();
    clock.roughly(1_000, 400);
    expect(clock.offset).toBe(600);
  });

  it('takes the offset of the sample with the smallest round trip', () => {
    const clock = new ServerClock();
    // offset 500, round trip 100
    clock.add(0, 550, 100, 0);
    // offset 480, round trip 20 (the best)
    clock.add(200, 690, 220, 0);
    // offset 700, round trip 300
    clock.add(400, 1_250, 700, 0);
    expect(clock.offset).toBe(480);
  });

  it('does not count the server processing time in the round trip', () => {
    const clock = new ServerClock();
    clock.add(0, 560, 120, 100); // round trip 20
    clock.add(0, 530, 50, 0); // round trip 50
    expect(clock.offset).toBe(500);
  });
});
