/** A labelled progress bar; `value` from 0 to `max`. */
export function ProgressBar({ value, max = 100, label, tone = 'emerald' }: { value: number; max?: number; label: string; tone?: 'emerald' | 'amber' | 'sky' }) {
  const clamped = Math.min(Math.max(value, 0), max);
  const percent = max > 0 ? Math.round((clamped / max) * 100) : 0;
  const fill = { emerald: 'bg-emerald-400', amber: 'bg-amber-300', sky: 'bg-sky-400' }[tone];
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={clamped}
      className="h-2 w-full overflow-hidden rounded-full bg-zinc-800"
    >
      <div className={`h-full rounded-full transition-[width] duration-500 ${fill}`} style={{ width: `${percent}%` }} />
    </div>
  );
}
