import { useParams } from 'react-router-dom';

import { ButtonLink } from '../components/ButtonLink';
import { ErrorState } from '../components/ErrorState';
import { LoadingState } from '../components/LoadingState';
import { PageLayout } from '../components/PageLayout';
import { StatusBadge } from '../components/StatusBadge';
import { Alert } from '../components/Alert';
import { DownloadsPanel } from '../features/recordings/DownloadsPanel';
import { formatDate, formatDuration, recordedDuration } from '../features/recordings/format';
import { InvitePanel } from '../features/recordings/InvitePanel';
import { ParticipantsPanel } from '../features/recordings/ParticipantsPanel';
import { RenderAgainForm } from '../features/recordings/RenderAgainForm';
import { RenderPanel } from '../features/recordings/RenderPanel';
import { TakesPanel } from '../features/recordings/TakesPanel';
import { useRecordingDetails } from '../features/recordings/useRecordingDetails';
import { friendlyMessage } from '../services/problems';

export function RecordingPage() {
  const { roomId = '' } = useParams();
  const entry = useRecordingDetails(roomId);
  const recording = entry?.data;

  if (!recording) {
    if (entry?.status === 'failed' && entry.error) {
      const missing = entry.error.status === 404;
      return (
        <PageLayout title={missing ? 'Session not found' : 'Session unavailable'}>
          <ErrorState
            title={missing ? 'There is no such session' : 'This session could not be loaded'}
            message={missing ? 'It may have been deleted, or the link is wrong.' : friendlyMessage(entry.error)}
            action={<ButtonLink to="/dashboard" variant="secondary">Back to your sessions</ButtonLink>}
          />
        </PageLayout>
      );
    }
    return (
      <PageLayout title="Session">
        <LoadingState label="Loading the session…" />
      </PageLayout>
    );
  }

  const duration = recording.takes.length > 0 ? ` · ${formatDuration(recordedDuration(recording))} recorded` : '';
  return (
    <PageLayout
      title={recording.title}
      subtitle={
        <span className="flex flex-wrap items-center gap-x-3 gap-y-1">
          <StatusBadge status={recording.status} />
          <span>
            Created {formatDate(recording.createdAt)}
            {duration}
          </span>
        </span>
      }
      actions={<ButtonLink to={`/studio/${recording.roomId}`}>Enter studio</ButtonLink>}
    >
      {entry.error && entry.error.status !== 404 && (
        <div className="mb-4">
          <Alert tone="info">Couldn’t refresh just now: {friendlyMessage(entry.error)} Showing the last known state.</Alert>
        </div>
      )}
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-3 lg:gap-6">
        <div className="flex min-w-0 flex-col gap-4 lg:col-span-2 lg:gap-6">
          <RenderPanel recording={recording} />
          <DownloadsPanel recording={recording} />
          {recording.takes.length > 0 && <RenderAgainForm recording={recording} />}
          <TakesPanel recording={recording} />
        </div>
        <div className="flex min-w-0 flex-col gap-4 lg:gap-6">
          <InvitePanel recording={recording} />
          <ParticipantsPanel recording={recording} />
        </div>
      </div>
    </PageLayout>
  );
}
