import { useEffect, useState } from 'react';

import { useAppDispatch, useAppSelector } from '../app/hooks';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { FormCard } from '../components/FormCard';
import { PageLayout } from '../components/PageLayout';
import { TextField } from '../components/TextField';
import { SessionCreated } from '../features/recordings/SessionCreated';
import { createRecording, resetCreate } from '../features/recordings/recordingsSlice';
import { friendlyMessage } from '../services/problems';

const MAX_TITLE_BYTES = 200;

function titleError(title: string): string | null {
  const value = title.trim();
  if (!value) return 'Give the session a title.';
  if (new TextEncoder().encode(value).length > MAX_TITLE_BYTES) return 'Keep the title under 200 characters.';
  return null;
}

export function NewSessionPage() {
  const dispatch = useAppDispatch();
  const create = useAppSelector((s) => s.recordings.create);
  const created = useAppSelector((s) => (create.createdId ? s.recordings.details[create.createdId]?.data : null));
  const [title, setTitle] = useState('');
  const [checked, setChecked] = useState(false);

  // A fresh form each time the page is opened.
  useEffect(() => {
    dispatch(resetCreate());
    return () => {
      dispatch(resetCreate());
    };
  }, [dispatch]);

  if (created) {
    return (
      <PageLayout title="Your session is ready" subtitle={created.title} narrow>
        <SessionCreated recording={created} />
      </PageLayout>
    );
  }

  function submit() {
    setChecked(true);
    if (titleError(title)) return;
    dispatch(createRecording(title.trim()));
  }

  const serverFieldError = create.error?.code === 'invalid_field' ? friendlyMessage(create.error) : null;
  return (
    <PageLayout title="New session" subtitle="Name it so you can find it later. You can invite guests next." narrow>
      <FormCard onSubmit={submit}>
        {create.error && !serverFieldError && <Alert>{friendlyMessage(create.error)}</Alert>}
        <TextField
          label="Session title"
          name="title"
          placeholder="Episode 12: the one with Grace"
          autoComplete="off"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          error={(checked ? titleError(title) : null) ?? serverFieldError}
        />
        <Button type="submit" busy={create.status === 'pending'} className="w-full">
          Create session
        </Button>
      </FormCard>
    </PageLayout>
  );
}
