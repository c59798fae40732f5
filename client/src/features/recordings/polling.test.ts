import { describe, expect, it } from 'vitest';

import type { RecordingDetail, RenderJob, Take } from '../../services/types';
import { isChanging, nextDelay, POLL_MAX_MS, POLL_MIN_MS } from './polling';

const take = (status: Take['status']): Take => ({ takeId: 't', status, startedAt: 0, stoppedAt: 1, missing: null, participants: [] });
const render = (status: RenderJob['status']) => ({ status }) as RenderJob;
const recording = (takes: Take[], r: RenderJob | null) => ({ takes, render: r }) as RecordingDetail;

describe('polling', () => {
  it('polls while a render is queued or running, or uploads are still coming in', () => {
    expect(isChanging(recording([take('complete')], render('queued')))).toBe(true);
    expect(isChanging(recording([take('complete')], render('running')))).toBe(true);
    expect(isChanging(recording([take('stopped')], null))).toBe(true);
    expect(isChanging(recording([take('recording')], null))).toBe(true);
  });

  it('stops once the render is done or failed, and for a session never recorded', () => {
    expect(isChanging(recording([take('complete')], render('done')))).toBe(false);
    expect(isChanging(recording([take('complete')], render('failed')))).toBe(false);
    expect(isChanging(recording([], null))).toBe(false);
  });

  it('backs off while nothing moves, up to a ceiling, and starts over when something does', () => {
    let delay = POLL_MIN_MS;
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) seen.push((delay = nextDelay(delay, false)));
    expect(seen[0]).toBeGreaterThan(POLL_MIN_MS);
    expect(seen.every((d, i) => i === 0 || d >= seen[i - 1])).toBe(true);
    expect(seen.at(-1)).toBe(POLL_MAX_MS);
    expect(nextDelay(POLL_MAX_MS, true)).toBe(POLL_MIN_MS);
  });
});
