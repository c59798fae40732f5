import { useState, type FormEvent } from 'react';

import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { Alert } from '../../components/Alert';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ChoiceGroup, type Choice } from '../../components/ChoiceGroup';
import { friendlyMessage } from '../../services/problems';
import type { RecordingDetail, RenderLayout, RenderResolution } from '../../services/types';
import { requestRender } from './recordingsSlice';

const layouts: Choice<RenderLayout>[] = [
  { value: 'grid', label: 'Grid', description: 'Everyone the same size' },
  { value: 'speaker', label: 'Speaker', description: 'Whoever talks, large' },
  { value: 'side-by-side', label: 'Side by side', description: 'Two people only' },
];

const resolutions: Choice<RenderResolution>[] = [
  { value: '720p', label: '720p', description: '1280 × 720' },
  { value: '1080p', label: '1080p', description: '1920 × 1080' },
];

/** Render the latest take again with another layout or resolution. */
export function RenderAgainForm({ recording }: { recording: RecordingDetail }) {
  const dispatch = useAppDispatch();
  const request = useAppSelector((s) => s.recordings.render[recording.roomId]);
  const [layout, setLayout] = useState<RenderLayout>(recording.render?.layout ?? 'grid');
  const [resolution, setResolution] = useState<RenderResolution>(recording.render?.resolution ?? '720p');
  const busy = recording.render?.status === 'queued' || recording.render?.status === 'running';

  function submit(event: FormEvent) {
    event.preventDefault();
    dispatch(requestRender({ roomId: recording.roomId, layout, resolution }));
  }

  return (
    <Card title={recording.render ? 'Render again' : 'Render'}>
      <form onSubmit={submit} className="flex flex-col gap-5">
        <ChoiceGroup legend="Layout" name="layout" choices={layouts} value={layout} onChange={setLayout} />
        <ChoiceGroup legend="Resolution" name="resolution" choices={resolutions} value={resolution} onChange={setResolution} />
        {request?.error && <Alert title="The render could not start">{friendlyMessage(request.error)}</Alert>}
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" busy={request?.pending} disabled={busy}>
            {recording.render ? 'Render again' : 'Render'}
          </Button>
          {busy && <span className="text-sm text-zinc-400">A render is under way; you can start another when it ends.</span>}
        </div>
      </form>
    </Card>
  );
}
