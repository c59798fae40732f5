// How times, durations and render settings read on the pages.
import type { RecordingDetail, RenderJob, RenderLayout, Take } from '../../services/types';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

export function formatDate(ms: number): string {
  return dateFormat.format(new Date(ms));
}

export function formatTime(ms: number): string {
  return timeFormat.format(new Date(ms));
}

/** 75_000 -> "1:15", 3_725_000 -> "1:02:05". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function takeDuration(take: Take, now = Date.now()): number {
  return (take.stoppedAt ?? now) - take.startedAt;
}

/** The length of everything recorded in the session: its takes added up. */
export function recordedDuration(recording: Pick<RecordingDetail, 'takes'>, now = Date.now()): number {
  return recording.takes.reduce((sum, take) => sum + takeDuration(take, now), 0);
}

export const layoutNames: Record<RenderLayout, string> = {
  grid: 'Grid',
  speaker: 'Speaker',
  'side-by-side': 'Side by side',
};

export function renderSettings(render: Pick<RenderJob, 'layout' | 'resolution'>): string {
  return `${layoutNames[render.layout] ?? render.layout}, ${render.resolution}`;
}

/** "mixing audio" from a stage name such as "mixing_audio". */
export function stageName(stage: string | null): string {
  return stage ? stage.replace(/[_-]+/g, ' ') : 'starting';
}
