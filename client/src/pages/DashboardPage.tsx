import { ButtonLink } from '../components/ButtonLink';
import { EmptyState } from '../components/EmptyState';
import { ErrorState } from '../components/ErrorState';
import { LoadingState } from '../components/LoadingState';
import { PageLayout } from '../components/PageLayout';
import { Button } from '../components/Button';
import { useAppDispatch } from '../app/hooks';
import { RecordingListItem } from '../features/recordings/RecordingListItem';
import { fetchRecordings } from '../features/recordings/recordingsSlice';
import { useRecordingList } from '../features/recordings/useRecordingList';
import { friendlyMessage } from '../services/problems';

export function DashboardPage() {
  const dispatch = useAppDispatch();
  const list = useRecordingList();
  const newSession = <ButtonLink to="/sessions/new">New session</ButtonLink>;

  let content;
  if (list.status === 'failed' && list.error) {
    content = (
      <ErrorState
        title="Your sessions could not be loaded"
        message={friendlyMessage(list.error)}
        action={
          <Button variant="secondary" onClick={() => dispatch(fetchRecordings())}>
            Try again
          </Button>
        }
      />
    );
  } else if (list.status !== 'loaded') {
    content = <LoadingState label="Loading your sessions…" />;
  } else if (list.items.length === 0) {
    content = (
      <EmptyState title="No sessions yet" action={newSession}>
        Create a session, send the invite link to your guests, and record together. Each person is recorded in full quality on
        their own device.
      </EmptyState>
    );
  } else {
    content = (
      <ul aria-label="Sessions" className="flex flex-col gap-3">
        {list.items.map((recording) => (
          <RecordingListItem key={recording.roomId} recording={recording} />
        ))}
      </ul>
    );
  }

  return (
    <PageLayout title="Your sessions" subtitle="Everything you have recorded, newest first." actions={list.items.length > 0 && newSession}>
      {content}
    </PageLayout>
  );
}
