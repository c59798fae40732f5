import { Link, type LinkProps } from 'react-router-dom';

import { buttonClasses, type ButtonVariant } from './Button';

/** A link (navigation) that looks like a button. */
export function ButtonLink({ variant = 'primary', className = '', ...rest }: LinkProps & { variant?: ButtonVariant }) {
  return <Link className={buttonClasses(variant, className)} {...rest} />;
}
