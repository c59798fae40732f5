// After leaving, being removed, or a connection the protocol says not to retry.
import { Link } from 'react-router-dom';

import { Button } from './common/Button';
import type { RoomState } from './state/roomSlice';

export function EndedScreen({ ended, onRejoin }: { ended: NonNullable<RoomState['ended']>; onRejoin: () => void }) {
  const canRejoin = ended.reason === 'left' || (ended.reason === 'closed' && ended.code !== 'forbidden' && ended.code !== 'not_found');
  const title = ended.reason === 'left' ? 'You left the studio' : ended.reason === 'removed' ? 'You were removed' : 'Disconnected from the studio';
  return (
    <main className="mx-auto flex min-h-dvh max-w-md flex-col items-center justify-center gap-4 px-6 text-center">
      <h1 className="text-2xl font-semibold">{title}</h1>
      <p className="text-zinc-400" role="status">
        {ended.message}
      </p>
      <div className="flex gap-3">
        {canRejoin && (
          <Button variant="primary" onClick={onRejoin} autoFocus>
            Rejoin
          </Button>
        )}
        <Link to="/" className="rounded-lg px-4 py-2 text-sm text-zinc-300 hover:bg-zinc-800 focus-visible:outline-2 focus-visible:outline-emerald-400">
          Home
        </Link>
      </div>
    </main>
  );
}
