import { useEffect, useState } from 'react';
import { Navigate, useLocation } from 'react-router-dom';

import { useAppDispatch, useAppSelector } from '../app/hooks';
import { Alert } from '../components/Alert';
import { PageLayout } from '../components/PageLayout';
import { TextLink } from '../components/TextLink';
import { clearAuthError, signIn } from '../features/auth/authSlice';
import { AuthForm } from '../features/auth/AuthForm';
import { EmailField, PasswordField } from '../features/auth/CredentialFields';
import { returnPath } from '../features/auth/RequireAuth';
import { emailError, passwordError } from '../features/auth/validation';
import { friendlyMessage } from '../services/problems';

export function SignInPage() {
  const dispatch = useAppDispatch();
  const location = useLocation();
  const { status, submitting, error } = useAppSelector((s) => s.auth);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [checked, setChecked] = useState(false);

  useEffect(() => {
    dispatch(clearAuthError());
  }, [dispatch]);

  if (status === 'signedIn') return <Navigate to={returnPath(location.state)} replace />;

  const errors = checked ? { email: emailError(email), password: passwordError(password) } : { email: null, password: null };

  function submit() {
    setChecked(true);
    if (emailError(email) || passwordError(password)) return;
    dispatch(signIn({ email: email.trim(), password }));
  }

  return (
    <PageLayout title="Sign in" subtitle="Welcome back. Sign in to host and manage your sessions." narrow>
      <AuthForm
        onSubmit={submit}
        submitLabel="Sign in"
        busy={submitting}
        error={error && <Alert>{friendlyMessage(error)}</Alert>}
        footer={
          <>
            New to Zencast? <TextLink to="/signup" state={location.state}>Create an account</TextLink>
          </>
        }
      >
        <EmailField value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
        <PasswordField value={password} onChange={(e) => setPassword(e.target.value)} error={errors.password} />
      </AuthForm>
    </PageLayout>
  );
}
