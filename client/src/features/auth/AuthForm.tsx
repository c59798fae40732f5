import type { FormEvent, ReactNode } from 'react';

import { Button } from '../../components/Button';

/** The frame the sign-in and sign-up forms share. */
export function AuthForm({
  onSubmit,
  submitLabel,
  busy,
  error,
  footer,
  children,
}: {
  onSubmit: () => void;
  submitLabel: string;
  busy: boolean;
  error: ReactNode;
  footer: ReactNode;
  children: ReactNode;
}) {
  function handleSubmit(event: FormEvent) {
    event.preventDefault();
    onSubmit();
  }
  return (
    <form noValidate onSubmit={handleSubmit} className="flex flex-col gap-5 rounded-xl border border-zinc-800 bg-zinc-900/60 p-5 sm:p-6">
      {error}
      {children}
      <Button type="submit" busy={busy} className="w-full">
        {submitLabel}
      </Button>
      <p className="text-center text-sm text-zinc-400">{footer}</p>
    </form>
  );
}
