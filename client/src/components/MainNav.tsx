import { NavLink, useNavigate } from 'react-router-dom';

import { useAppDispatch, useAppSelector } from '../app/hooks';
import { signOut } from '../features/auth/authSlice';
import { focusRing } from './focusRing';

function navClass({ isActive }: { isActive: boolean }) {
  return [
    'rounded-md px-2.5 py-1.5 text-sm font-medium transition-colors',
    isActive ? 'bg-zinc-800 text-zinc-100' : 'text-zinc-300 hover:bg-zinc-800/60 hover:text-zinc-100',
    focusRing,
  ].join(' ');
}

/** The header's links: a host's sessions and sign-out, or sign in / sign up. */
export function MainNav() {
  const { status, user } = useAppSelector((s) => s.auth);
  const dispatch = useAppDispatch();
  const navigate = useNavigate();

  async function handleSignOut() {
    await dispatch(signOut());
    navigate('/signin', { replace: true });
  }

  if (status === 'checking') return null;
  return (
    <nav aria-label="Main" className="flex items-center gap-1 sm:gap-2">
      {status === 'signedIn' ? (
        <>
          <NavLink to="/dashboard" end className={navClass}>
            Sessions
          </NavLink>
          <NavLink to="/sessions/new" className={navClass}>
            New<span className="hidden sm:inline"> session</span>
          </NavLink>
          {user && (
            <span className="ml-2 hidden max-w-40 truncate text-sm text-zinc-400 md:inline" title={user.email}>
              {user.name}
            </span>
          )}
          <button type="button" onClick={handleSignOut} className={navClass({ isActive: false })}>
            Sign out
          </button>
        </>
      ) : (
        <>
          <NavLink to="/signin" className={navClass}>
            Sign in
          </NavLink>
          <NavLink to="/signup" className={navClass}>
            Sign up
          </NavLink>
        </>
      )}
    </nav>
  );
}
