import { useParams } from 'react-router-dom';

// Placeholder: the studio (src/studio/**) replaces this file.
export function StudioPage() {
  const { roomId } = useParams();
  return (
    <main className="mx-auto max-w-2xl p-8">
      <h1 className="text-2xl font-semibold">Studio</h1>
      <p className="mt-2 text-zinc-400">Session {roomId}</p>
    </main>
  );
}
