import type { RecordingDetail, RecordingSummary } from '../../services/types';
import { renderSettings } from './format';

/** One line on the render of a session, from its details when loaded, else from its status. */
export function renderSummary(summary: RecordingSummary, detail: RecordingDetail | null): string {
  const render = detail?.render;
  if (render) {
    if (render.status === 'queued') return 'Render queued';
    if (render.status === 'running') return `Rendering ${render.progress}%`;
    if (render.status === 'failed') return 'Render failed';
    return `Rendered · ${renderSettings(render)}`;
  }
  switch (summary.status) {
    case 'queued':
      return 'Render queued';
    case 'rendering':
      return 'Rendering';
    case 'ready':
      return 'Rendered';
    case 'failed':
      return 'Render failed';
    default:
      return 'Not rendered yet';
  }
}
