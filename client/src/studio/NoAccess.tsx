import { Link } from 'react-router-dom';

export function NoAccess() {
  return (
    <main className="mx-auto flex min-h-dvh max-w-md flex-col items-center justify-center gap-4 px-6 text-center">
      <h1 className="text-2xl font-semibold">You’re not in this session yet</h1>
      <p className="text-zinc-400">Open the invite link the host sent you, or sign in if this is your recording.</p>
      <Link to="/" className="rounded-lg bg-emerald-500 px-4 py-2 text-sm font-medium text-zinc-950 hover:bg-emerald-400 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400">
        Go to Zencast
      </Link>
    </main>
  );
}
