import { describe, expect, it } from 'vitest';

import type { Take } from '../../services/types';
import { formatDuration, recordedDuration, stageName } from './format';

describe('format', () => {
  it('writes durations as m:ss or h:mm:ss', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(75_000)).toBe('1:15');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
  });

  it("adds up a session's takes, counting a take still recording up to now", () => {
    const takes = [
      { startedAt: 1_000, stoppedAt: 61_000 },
      { startedAt: 100_000, stoppedAt: null },
    ] as Take[];
    expect(recordedDuration({ takes }, 130_000)).toBe(90_000);
  });

  it('names render stages in words', () => {
    expect(stageName('mixing_audio')).toBe('mixing audio');
    expect(stageName(null)).toBe('starting');
  });
});
