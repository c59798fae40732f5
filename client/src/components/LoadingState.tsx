import { Spinner } from './Spinner';

/** A calm placeholder while something loads. */
export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <div role="status" className="flex items-center justify-center gap-3 py-16 text-zinc-400">
      <Spinner className="size-5" />
      <span>{label}</span>
    </div>
  );
}
