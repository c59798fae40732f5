import type { ReactNode } from 'react';

import { Button } from '../../components/Button';
import { FormCard } from '../../components/FormCard';

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
  return (
    <FormCard onSubmit={onSubmit}>
      {error}
      {children}
      <Button type="submit" busy={busy} className="w-full">
        {submitLabel}
      </Button>
      <p className="text-center text-sm text-zinc-400">{footer}</p>
    </FormCard>
  );
}
