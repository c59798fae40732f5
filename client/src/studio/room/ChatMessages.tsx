import { useEffect, useRef } from 'react';

import { useStudioSelector } from '../state/hooks';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function ChatMessages() {
  const messages = useStudioSelector((s) => s.chat.messages);
  const selfId = useStudioSelector((s) => s.room.self?.id);
  const endRef = useRef<HTMLLIElement>(null);

  // Braces matter: newer browsers return a Promise from scrollIntoView, which React would take for a cleanup.
  useEffect(() => {
    void endRef.current?.scrollIntoView({ block: 'end' });
  }, [messages.length]);

  return (
    <ol aria-label="Chat messages" aria-live="polite" className="flex min-h-0 flex-1 flex-col gap-3 overflow-y-auto p-4" data-testid="chat-messages">
      {messages.length === 0 && <li className="text-sm text-zinc-500">No messages yet.</li>}
      {messages.map((m) => (
        <li key={m.id} className="text-sm">
          <p className="flex items-baseline gap-2">
            <span className={`font-medium ${m.from === selfId ? 'text-emerald-300' : 'text-zinc-100'}`}>{m.name}</span>
            <time className="text-xs text-zinc-500" dateTime={new Date(m.sentAt).toISOString()}>
              {timeFormat.format(m.sentAt)}
            </time>
          </p>
          <p className="break-words whitespace-pre-wrap text-zinc-300">{m.text}</p>
        </li>
      ))}
      <li ref={endRef} aria-hidden="true" />
    </ol>
  );
}
