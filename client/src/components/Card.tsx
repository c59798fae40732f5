import type { ReactNode } from 'react';

/** A section of a page: a panel with a heading. */
export function Card({ title, actions, children, className = '' }: { title?: string; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`rounded-xl border border-zinc-800 bg-zinc-900/60 p-4 sm:p-6 ${className}`}>
      {(title || actions) && (
        <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
          {title && <h2 className="text-lg font-semibold text-zinc-100">{title}</h2>}
          {actions}
        </div>
      )}
      {children}
    </section>
  );
}
