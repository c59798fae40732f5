import { Alert } from '../../components/Alert';
import { Card } from '../../components/Card';
import { ProgressBar } from '../../components/ProgressBar';
import { StatusBadge } from '../../components/StatusBadge';
import type { RecordingDetail } from '../../services/types';
import { formatTime, renderSettings, stageName } from './format';

/** The final video: its player once rendered, the render's progress while it runs. */
export function RenderPanel({ recording }: { recording: RecordingDetail }) {
  const { render, downloads } = recording;
  const inProgress = render && (render.status === 'queued' || render.status === 'running');
  return (
    <Card title="Final video" actions={render && <StatusBadge status={render.status} />}>
      <div className="flex flex-col gap-4">
        {downloads?.final ? (
          // Not crossOrigin: on S3 the signed URL is another origin, which plays without CORS.
          <video
            controls
            preload="metadata"
            src={downloads.final}
            aria-label={`Final video of ${recording.title}`}
            className="aspect-video w-full rounded-lg bg-black"
          />
        ) : (
          !inProgress && (
            <p className="rounded-lg border border-dashed border-zinc-700 px-4 py-8 text-center text-sm text-zinc-400">
              {render?.status === 'failed'
                ? 'The render did not finish.'
                : 'Record a take in the studio. The final video appears here once everyone’s uploads are in and it has rendered.'}
            </p>
          )
        )}

        {render && inProgress && (
          <div className="flex flex-col gap-2" aria-live="polite">
            <div className="flex items-center justify-between gap-3 text-sm">
              <span className="text-zinc-300">
                {render.status === 'queued' ? 'Waiting for a render worker…' : `Rendering: ${stageName(render.stage)}`}
              </span>
              <span className="tabular-nums text-zinc-400">{render.progress}%</span>
            </div>
            <ProgressBar value={render.progress} label="Render progress" tone="amber" />
            <p className="text-sm text-zinc-400">
              {renderSettings(render)}. {downloads ? 'The previous files stay available until it finishes.' : 'You can leave this page; it keeps going.'}
            </p>
          </div>
        )}

        {render?.status === 'failed' && (
          <Alert title="The render failed">
            {render.error ?? 'No reason was given.'} {downloads && 'The previous files are still available.'}
          </Alert>
        )}

        {render?.status === 'done' && (
          <p className="text-sm text-zinc-400">
            {renderSettings(render)} · rendered at {formatTime(render.updatedAt)}
          </p>
        )}
      </div>
    </Card>
  );
}
