import type { ReactNode } from 'react';

/** A whole page's content could not be shown: what happened, and a way on. */
export function ErrorState({ title, message, action }: { title: string; message: string; action?: ReactNode }) {
  return (
    <div role="alert" className="flex flex-col items-center gap-3 rounded-xl border border-rose-500/30 bg-rose-500/5 px-6 py-12 text-center">
      <h2 className="text-lg font-semibold text-zinc-100">{title}</h2>
      <p className="max-w-md text-sm text-zinc-300">{message}</p>
      {action && <div className="mt-2 flex flex-wrap justify-center gap-3">{action}</div>}
    </div>
  );
}
