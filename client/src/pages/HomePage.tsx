import { Navigate } from 'react-router-dom';

import { useAppSelector } from '../app/hooks';
import { ButtonLink } from '../components/ButtonLink';
import { LoadingState } from '../components/LoadingState';
import { PageLayout } from '../components/PageLayout';

const points = [
  ['Studio quality', 'Everyone is recorded on their own device, so a shaky connection never reaches the recording.'],
  ['Nothing lost', 'Recordings upload in small pieces while you talk, and resume if a browser closes.'],
  ['Ready to publish', 'A synced, loudness-balanced final.mp4, plus each person’s own audio and video.'],
];

export function HomePage() {
  const status = useAppSelector((s) => s.auth.status);
  if (status === 'signedIn') return <Navigate to="/dashboard" replace />;
  if (status === 'checking') return <LoadingState />;
  return (
    <PageLayout title="Record remote conversations in studio quality" subtitle="Invite guests with a link. They join from their browser, no account needed.">
      <div className="flex flex-wrap gap-3">
        <ButtonLink to="/signup">Create an account</ButtonLink>
        <ButtonLink to="/signin" variant="secondary">
          Sign in
        </ButtonLink>
      </div>
      <ul className="mt-10 grid grid-cols-1 gap-4 sm:grid-cols-3">
        {points.map(([title, text]) => (
          <li key={title} className="rounded-xl border border-zinc-800 bg-zinc-900/60 p-5">
            <h2 className="font-semibold text-zinc-100">{title}</h2>
            <p className="mt-1 text-sm text-zinc-400">{text}</p>
          </li>
        ))}
      </ul>
    </PageLayout>
  );
}
