// Short-lived messages: the server refused something, the host muted you.
import { useEffect } from 'react';

import { CloseIcon } from '../common/icons';
import { roomActions, type Notice } from '../state/roomSlice';
import { useStudioDispatch, useStudioSelector } from '../state/hooks';

const SHOW_MS = 6_000;

function NoticeItem({ notice }: { notice: Notice }) {
  const dispatch = useStudioDispatch();
  useEffect(() => {
    const timer = setTimeout(() => dispatch(roomActions.noticeDismissed(notice.id)), SHOW_MS);
    return () => clearTimeout(timer);
  }, [notice.id, dispatch]);
  return (
    <li className="flex items-start gap-3 rounded-lg border border-zinc-700 bg-zinc-900 px-4 py-3 text-sm shadow-lg">
      <p className="flex-1">{notice.message}</p>
      <button type="button" aria-label="Dismiss" onClick={() => dispatch(roomActions.noticeDismissed(notice.id))} className="text-zinc-400 hover:text-zinc-100 focus-visible:outline-2 focus-visible:outline-emerald-400">
        <CloseIcon className="h-4 w-4" />
      </button>
    </li>
  );
}

export function Notices() {
  const notices = useStudioSelector((s) => s.room.notices);
  return (
    <ul role="alert" className="pointer-events-auto fixed inset-x-3 bottom-24 z-50 mx-auto flex max-w-md flex-col gap-2">
      {notices.map((n) => (
        <NoticeItem key={n.id} notice={n} />
      ))}
    </ul>
  );
}
