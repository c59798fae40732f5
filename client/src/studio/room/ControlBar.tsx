import { Button } from '../common/Button';
import { LeaveIcon } from '../common/icons';
import { useSession } from '../session/SessionContext';
import { selectIsHost } from '../state/selectors';
import { useStudioSelector } from '../state/hooks';
import { ChatToggle } from './ChatToggle';
import { CameraToggle, MicrophoneToggle } from './MediaToggles';
import { RecordButton } from './RecordButton';

export function ControlBar({ chatOpen, onToggleChat }: { chatOpen: boolean; onToggleChat: () => void }) {
  const session = useSession();
  const isHost = useStudioSelector(selectIsHost);
  return (
    <nav aria-label="Studio controls" className="flex shrink-0 items-center justify-center gap-2 border-t border-zinc-800 bg-zinc-950 px-3 py-3 sm:gap-3">
      <MicrophoneToggle />
      <CameraToggle />
      {isHost && <RecordButton />}
      <ChatToggle open={chatOpen} onToggle={onToggleChat} />
      <Button variant="ghost" onClick={() => session.leave()} className="text-rose-300 hover:text-rose-200">
        <LeaveIcon />
        <span className="hidden sm:inline">Leave</span>
        <span className="sr-only sm:hidden">Leave</span>
      </Button>
    </nav>
  );
}
