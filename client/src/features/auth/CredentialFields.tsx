// The email and password fields of the sign-in and sign-up forms.
import type { ChangeEvent } from 'react';

import { TextField } from '../../components/TextField';

interface FieldProps {
  value: string;
  onChange: (e: ChangeEvent<HTMLInputElement>) => void;
  error: string | null;
}

export function EmailField(props: FieldProps) {
  return <TextField label="Email" type="email" name="email" autoComplete="email" inputMode="email" {...props} />;
}

/** creating: a new password (the browser may suggest one; the rule is shown). */
export function PasswordField({ creating = false, ...props }: FieldProps & { creating?: boolean }) {
  return (
    <TextField
      label="Password"
      type="password"
      name="password"
      autoComplete={creating ? 'new-password' : 'current-password'}
      hint={creating ? 'At least 8 characters.' : undefined}
      {...props}
    />
  );
}
