import type { ReactNode } from 'react';

/** What a page shows when there is nothing yet, and what to do about it. */
export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="flex flex-col items-center gap-3 rounded-xl border border-dashed border-zinc-700 px-6 py-12 text-center">
      <h2 className="text-lg font-semibold text-zinc-100">{title}</h2>
      {children && <div className="max-w-md text-sm text-zinc-400">{children}</div>}
      {action && <div className="mt-2">{action}</div>}
    </div>
  );
}
