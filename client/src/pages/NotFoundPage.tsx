import { ButtonLink } from '../components/ButtonLink';
import { ErrorState } from '../components/ErrorState';
import { PageLayout } from '../components/PageLayout';

export function NotFoundPage() {
  return (
    <PageLayout title="Page not found">
      <ErrorState
        title="There is nothing at this address"
        message="The link may be mistyped or out of date."
        action={<ButtonLink to="/">Go to the start page</ButtonLink>}
      />
    </PageLayout>
  );
}
