import { Link, type LinkProps } from 'react-router-dom';

import { focusRing } from './focusRing';

/** An in-app link inside text. */
export function TextLink({ className = '', ...rest }: LinkProps) {
  return <Link className={`rounded font-medium text-emerald-300 underline-offset-4 hover:underline ${focusRing} ${className}`} {...rest} />;
}
