export function HomePage() {
  return (
    <main className="mx-auto max-w-2xl p-8">
      <h1 className="text-3xl font-semibold">Zencast</h1>
      <p className="mt-2 text-zinc-400">Record remote podcasts and interviews in studio quality.</p>
    </main>
  );
}
