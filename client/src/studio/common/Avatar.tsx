// Shown instead of video when a participant's camera is off.
const palette = ['bg-emerald-700', 'bg-sky-700', 'bg-violet-700', 'bg-amber-700', 'bg-rose-700', 'bg-teal-700'];

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}

function colourOf(name: string): string {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return palette[Math.abs(hash) % palette.length];
}

export function Avatar({ name }: { name: string }) {
  return (
    <div className="absolute inset-0 flex items-center justify-center bg-zinc-900" aria-hidden="true">
      <div className={`flex h-16 w-16 items-center justify-center rounded-full text-xl font-semibold text-white sm:h-20 sm:w-20 sm:text-2xl ${colourOf(name)}`}>
        {initials(name)}
      </div>
    </div>
  );
}
