/** The one visible keyboard-focus style every interactive element shares. */
export const focusRing =
  'focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400';
