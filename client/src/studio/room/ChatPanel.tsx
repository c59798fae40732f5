// The chat: a sidebar on wide screens, a full-screen sheet (opened from the control bar) on
// narrow ones. Messages count as read while it is visible.
import { useEffect } from 'react';

import { Button } from '../common/Button';
import { CloseIcon } from '../common/icons';
import { useMediaQuery } from '../common/useMediaQuery';
import { chatActions } from '../state/chatSlice';
import { useStudioDispatch, useStudioSelector } from '../state/hooks';
import { ChatForm } from './ChatForm';
import { ChatMessages } from './ChatMessages';

export const WIDE_SCREEN = '(min-width: 1024px)';

export function ChatPanel({ open, onClose }: { open: boolean; onClose: () => void }) {
  const wide = useMediaQuery(WIDE_SCREEN);
  const visible = wide || open;
  const unread = useStudioSelector((s) => s.chat.unread);
  const dispatch = useStudioDispatch();

  useEffect(() => {
    if (visible && unread > 0) dispatch(chatActions.read());
  }, [visible, unread, dispatch]);

  useEffect(() => {
    if (wide || !open) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [wide, open, onClose]);

  if (!visible) return null;
  return (
    <aside
      id="chat-panel"
      aria-label="Chat"
      className={wide ? 'flex w-80 shrink-0 flex-col border-l border-zinc-800 bg-zinc-900/40' : 'fixed inset-0 z-40 flex flex-col bg-zinc-950'}
    >
      <header className="flex items-center justify-between border-b border-zinc-800 px-4 py-3">
        <h2 className="text-sm font-semibold">Chat</h2>
        {!wide && (
          <Button variant="ghost" className="px-2" onClick={onClose} aria-label="Close chat" autoFocus>
            <CloseIcon />
          </Button>
        )}
      </header>
      <ChatMessages />
      <ChatForm />
    </aside>
  );
}
