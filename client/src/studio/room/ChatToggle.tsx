import { ChatIcon } from '../common/icons';
import { useStudioSelector } from '../state/hooks';

export function ChatToggle({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  const unread = useStudioSelector((s) => s.chat.unread);
  return (
    <button
      type="button"
      onClick={onToggle}
      aria-expanded={open}
      aria-controls="chat-panel"
      aria-label={unread > 0 ? `Chat, ${unread} unread` : 'Chat'}
      className="relative inline-flex h-11 w-11 items-center justify-center rounded-full bg-zinc-800 text-zinc-100 hover:bg-zinc-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400 lg:hidden"
    >
      <ChatIcon />
      {unread > 0 && (
        <span className="absolute -top-1 -right-1 min-w-5 rounded-full bg-emerald-500 px-1 text-xs font-semibold text-zinc-950" aria-hidden="true">
          {unread}
        </span>
      )}
    </button>
  );
}
