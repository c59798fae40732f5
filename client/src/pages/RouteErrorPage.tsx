import { isRouteErrorResponse, useRouteError } from 'react-router-dom';

import { buttonClasses } from '../components/Button';
import { ErrorState } from '../components/ErrorState';
import { NotFoundPage } from './NotFoundPage';

/** What shows instead of a blank page when a page throws, or a page's code fails to load. */
export function RouteErrorPage() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) return <NotFoundPage />;
  return (
    <main className="mx-auto max-w-md px-4 py-16">
      <ErrorState
        title="Something went wrong"
        message="This page ran into a problem. Reloading usually helps; your recordings are safe."
        action={
          <>
            <button type="button" className={buttonClasses('primary')} onClick={() => window.location.reload()}>
              Reload
            </button>
            <a href="/" className={buttonClasses('secondary')}>
              Start page
            </a>
          </>
        }
      />
    </main>
  );
}
