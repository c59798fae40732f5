import { useId, useState, type FormEvent } from 'react';

import { Button } from '../common/Button';
import { useSession } from '../session/SessionContext';
import { useStudioSelector } from '../state/hooks';

const MAX_BYTES = 2000;

export function ChatForm() {
  const session = useSession();
  const connected = useStudioSelector((s) => s.room.connection.status === 'joined');
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const tooLong = new TextEncoder().encode(text.trim()).length > MAX_BYTES;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim() || tooLong) return;
    setSending(true);
    setError(null);
    try {
      await session.sendChat(text);
      setText('');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSending(false);
    }
  };

  return (
    <form onSubmit={submit} className="flex flex-col gap-1 border-t border-zinc-800 p-3">
      <label htmlFor={id} className="sr-only">
        Message
      </label>
      <div className="flex gap-2">
        <input
          id={id}
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={connected ? 'Message everyone' : 'Reconnecting…'}
          autoComplete="off"
          className="min-w-0 flex-1 rounded-lg border border-zinc-700 bg-zinc-900 px-3 py-2 text-sm focus-visible:outline-2 focus-visible:outline-emerald-400"
        />
        <Button type="submit" variant="primary" disabled={!connected || sending || !text.trim() || tooLong}>
          Send
        </Button>
      </div>
      {(error || tooLong) && (
        <p role="alert" className="text-xs text-rose-300">
          {tooLong ? 'That message is too long.' : error}
        </p>
      )}
    </form>
  );
}
