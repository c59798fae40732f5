import { useEffect, type ReactNode } from 'react';

import { AppHeader } from './AppHeader';

/** Every page but the studio: the header, then the page's title and content. */
export function PageLayout({
  title,
  subtitle,
  actions,
  narrow = false,
  hideNav = false,
  children,
}: {
  title: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
  /** Forms read better in a narrow column. */
  narrow?: boolean;
  /** Guests joining from a link need no account links. */
  hideNav?: boolean;
  children: ReactNode;
}) {
  useEffect(() => {
    document.title = `${title} · Zencast`;
  }, [title]);

  return (
    <div className="flex min-h-screen flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-3 focus:z-10 focus:rounded-md focus:bg-emerald-400 focus:px-3 focus:py-2 focus:text-zinc-950"
      >
        Skip to content
      </a>
      <AppHeader hideNav={hideNav} />
      <main id="main" className={`mx-auto w-full flex-1 px-4 py-8 sm:px-6 sm:py-10 ${narrow ? 'max-w-md' : 'max-w-5xl'}`}>
        <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
          <div className="min-w-0">
            <h1 className="break-words text-2xl font-semibold tracking-tight sm:text-3xl">{title}</h1>
            {subtitle && <div className="mt-1 text-zinc-400">{subtitle}</div>}
          </div>
          {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
        </div>
        {children}
      </main>
    </div>
  );
}
