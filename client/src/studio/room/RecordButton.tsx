// The host's Record / Stop. Recording begins after the server's countdown, for everyone at once.
import { Button } from '../common/Button';
import { RecordIcon, StopIcon } from '../common/icons';
import { useSession } from '../session/SessionContext';
import { useStudioSelector } from '../state/hooks';

export function RecordButton() {
  const session = useSession();
  const recording = useStudioSelector((s) => !!s.recording.current);
  const pending = useStudioSelector((s) => s.recording.pending);
  const connected = useStudioSelector((s) => s.room.connection.status === 'joined');

  if (recording) {
    return (
      <Button variant="danger" onClick={() => void session.stopRecording()} disabled={!connected || pending === 'stop'}>
        <StopIcon />
        {pending === 'stop' ? 'Stopping…' : 'Stop'}
      </Button>
    );
  }
  return (
    <Button variant="record" onClick={() => void session.startRecording()} disabled={!connected || pending === 'start'}>
      <RecordIcon />
      {pending === 'start' ? 'Starting…' : 'Record'}
    </Button>
  );
}
