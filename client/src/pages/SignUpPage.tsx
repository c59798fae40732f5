import { useEffect, useState, type ChangeEvent } from 'react';
import { Navigate, useLocation } from 'react-router-dom';

import { useAppDispatch, useAppSelector } from '../app/hooks';
import { Alert } from '../components/Alert';
import { PageLayout } from '../components/PageLayout';
import { TextField } from '../components/TextField';
import { TextLink } from '../components/TextLink';
import { clearAuthError, signUp } from '../features/auth/authSlice';
import { AuthForm } from '../features/auth/AuthForm';
import { EmailField, PasswordField } from '../features/auth/CredentialFields';
import { returnPath } from '../features/auth/RequireAuth';
import { emailError, nameError, passwordError } from '../features/auth/validation';
import { friendlyMessage } from '../services/problems';

type Field = 'name' | 'email' | 'password';

export function SignUpPage() {
  const dispatch = useAppDispatch();
  const location = useLocation();
  const { status, submitting, error } = useAppSelector((s) => s.auth);
  const [values, setValues] = useState<Record<Field, string>>({ name: '', email: '', password: '' });
  const [checked, setChecked] = useState(false);

  useEffect(() => {
    dispatch(clearAuthError());
  }, [dispatch]);

  if (status === 'signedIn') return <Navigate to={returnPath(location.state)} replace />;

  const local: Record<Field, string | null> = {
    name: nameError(values.name),
    email: emailError(values.email),
    password: passwordError(values.password, { creating: true }),
  };
  // The server's word on a field goes under that field; anything else above the form.
  const serverField = error?.code === 'invalid_field' ? (error.field as Field | undefined) : undefined;
  const fieldError = (field: Field) =>
    (checked ? local[field] : null) ?? (serverField === field && error ? friendlyMessage(error) : null);
  const formError = error && !serverField ? friendlyMessage(error) : null;

  const set = (field: Field) => (e: ChangeEvent<HTMLInputElement>) => setValues({ ...values, [field]: e.target.value });

  function submit() {
    setChecked(true);
    if (local.name || local.email || local.password) return;
    dispatch(signUp({ name: values.name.trim(), email: values.email.trim(), password: values.password }));
  }

  return (
    <PageLayout title="Create your account" subtitle="Host sessions and get a studio-quality recording of every guest." narrow>
      <AuthForm
        onSubmit={submit}
        submitLabel="Create account"
        busy={submitting}
        error={formError && <Alert>{formError}</Alert>}
        footer={
          <>
            Already have an account? <TextLink to="/signin" state={location.state}>Sign in</TextLink>
          </>
        }
      >
        <TextField label="Your name" name="name" autoComplete="name" value={values.name} onChange={set('name')} error={fieldError('name')} />
        <EmailField value={values.email} onChange={set('email')} error={fieldError('email')} />
        <PasswordField creating value={values.password} onChange={set('password')} error={fieldError('password')} />
      </AuthForm>
    </PageLayout>
  );
}
