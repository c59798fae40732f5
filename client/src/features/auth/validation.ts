// The checks the server makes (docs/api.md), made first so people get an answer at once.

export function emailError(email: string): string | null {
  const value = email.trim();
  if (!value) return 'Enter your email address.';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return 'Enter an email address such as name@example.com.';
  return null;
}

export function passwordError(password: string, { creating = false } = {}): string | null {
  if (!password) return creating ? 'Choose a password.' : 'Enter your password.';
  const bytes = new TextEncoder().encode(password).length;
  if (creating && bytes < 8) return 'Use at least 8 characters.';
  if (creating && bytes > 256) return 'Use at most 256 characters.';
  return null;
}

/** Display names: 1-100 bytes after trimming (guests and hosts alike). */
export function nameError(name: string, what = 'your name'): string | null {
  const value = name.trim();
  if (!value) return `Enter ${what}.`;
  if (new TextEncoder().encode(value).length > 100) return 'Keep it under 100 characters.';
  if (/\p{Cc}/u.test(value)) return 'Use letters, numbers and punctuation only.';
  return null;
}
