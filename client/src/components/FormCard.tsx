import type { FormEvent, ReactNode } from 'react';

/**
 * A form in a panel. The browser's own validation bubbles are off (the fields show our
 * messages); after a submit the first field marked invalid gets the focus, so keyboard and
 * screen-reader users land on what to fix.
 */
export function FormCard({ onSubmit, children }: { onSubmit: () => void; children: ReactNode }) {
  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    onSubmit();
    requestAnimationFrame(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
  }
  return (
    <form noValidate onSubmit={handleSubmit} className="flex flex-col gap-5 rounded-xl border border-zinc-800 bg-zinc-900/60 p-5 sm:p-6">
      {children}
    </form>
  );
}
