import { useEffect, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router-dom';

import { useAppDispatch, useAppSelector } from '../app/hooks';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { ErrorState } from '../components/ErrorState';
import { FormCard } from '../components/FormCard';
import { PageLayout } from '../components/PageLayout';
import { TextField } from '../components/TextField';
import { nameError } from '../features/auth/validation';
import { joinRoom, resetJoin } from '../features/guest/joinSlice';
import { guestIdentity, lastGuestName } from '../services/guestIdentity';
import { friendlyMessage } from '../services/problems';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** /join/{roomId}?invite={token}: the link a host sends; the guest gives a name and goes in. */
export function JoinPage() {
  const { roomId = '' } = useParams();
  const [params] = useSearchParams();
  const invite = params.get('invite') ?? '';
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const join = useAppSelector((s) => s.join);
  const [name, setName] = useState(lastGuestName);
  const [checked, setChecked] = useState(false);
  const [me] = useState(() => guestIdentity(roomId));
  const studio = `/studio/${roomId}`;

  useEffect(() => {
    dispatch(resetJoin());
  }, [dispatch, roomId]);

  useEffect(() => {
    if (join.status === 'joined') navigate(studio);
  }, [join.status, navigate, studio]);

  const title = 'Join the session';
  const brokenLink = !UUID.test(roomId) || !invite;
  const dead = join.error && (join.error.code === 'invalid_invite' || join.error.status === 404);
  if (brokenLink || dead) {
    const gone = join.error?.status === 404;
    return (
      <PageLayout title={title} narrow hideNav>
        <ErrorState
          title={brokenLink ? 'This invite link is incomplete' : gone ? 'This session no longer exists' : 'This invite link doesn’t work'}
          message={
            brokenLink
              ? 'Part of the link seems to be missing. Copy the whole link from the host’s message and open it again.'
              : gone
                ? 'The host may have deleted it. Ask them for a link to the new session.'
                : 'The host may have replaced it with a new one. Ask them to send you the current link.'
          }
        />
      </PageLayout>
    );
  }

  function submit() {
    setChecked(true);
    if (nameError(name)) return;
    dispatch(joinRoom({ roomId, inviteToken: invite, name: name.trim() }));
  }

  const serverFieldError = join.error?.code === 'invalid_field' ? friendlyMessage(join.error) : null;
  return (
    <PageLayout title={title} subtitle="You’ve been invited to record a conversation. No account needed." narrow hideNav>
      <div className="flex flex-col gap-4">
        {me && (
          <div className="flex flex-col gap-3 rounded-xl border border-emerald-500/30 bg-emerald-500/5 p-5">
            <p className="text-sm text-zinc-200">
              You already joined this session as <strong className="font-semibold">{me.name}</strong>.
            </p>
            <Button variant="secondary" onClick={() => navigate(studio)}>
              Continue as {me.name}
            </Button>
          </div>
        )}
        <FormCard onSubmit={submit}>
          {join.error && !serverFieldError && <Alert>{friendlyMessage(join.error)}</Alert>}
          <TextField
            label="Your name"
            name="name"
            autoComplete="name"
            hint="This is how the others see you, and how your recording is named."
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={(checked ? nameError(name) : null) ?? serverFieldError}
          />
          <Button type="submit" busy={join.status === 'joining'} className="w-full">
            {me ? 'Join with this name' : 'Join session'}
          </Button>
          <p className="text-center text-xs text-zinc-400">
            Next, your browser asks to use your camera and microphone. You are recorded only while the host records.
          </p>
        </FormCard>
      </div>
    </PageLayout>
  );
}
