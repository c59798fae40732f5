import { Link } from 'react-router-dom';

import { focusRing } from './focusRing';
import { MainNav } from './MainNav';

/** The bar at the top of every page but the studio. */
export function AppHeader({ hideNav = false }: { hideNav?: boolean }) {
  return (
    <header className="border-b border-zinc-800 bg-zinc-950/80">
      <div className="mx-auto flex max-w-5xl items-center justify-between gap-2 px-4 py-3 sm:px-6">
        <Link to="/" className={`flex items-center gap-2 rounded-md text-lg font-semibold tracking-tight ${focusRing}`}>
          <span aria-hidden="true" className="size-2.5 rounded-full bg-emerald-400" />
          Zencast
        </Link>
        {!hideNav && <MainNav />}
      </div>
    </header>
  );
}
