import type { RecordingListEntry } from '../../services/types';
import { renderSettings } from './format';

/** One line on the render of a session, from the list's summary of its latest render. */
export function renderSummary({ render, status }: Pick<RecordingListEntry, 'render' | 'status'>): string {
  if (render) {
    if (render.status === 'queued') return 'Render queued';
    if (render.status === 'running') return `Rendering ${render.progress}%`;
    if (render.status === 'failed') return 'Render failed';
    return `Rendered · ${renderSettings(render)}`;
  }
  return status === 'failed' ? 'Render failed' : 'Not rendered yet';
}
