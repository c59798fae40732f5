import { Card } from '../../components/Card';
import { ProgressBar } from '../../components/ProgressBar';
import type { RecordingDetail, Take, TakeParticipant } from '../../services/types';
import { formatDuration, formatTime, takeDuration } from './format';
import { participantName } from './participantName';

const takeStatusText: Record<Take['status'], string> = {
  recording: 'Recording',
  stopped: 'Uploads coming in',
  complete: 'All uploads in',
};

/** Every take, and how far each participant's upload has got. */
export function TakesPanel({ recording }: { recording: RecordingDetail }) {
  if (recording.takes.length === 0) return null;
  return (
    <Card title="Takes and uploads">
      <ol className="flex flex-col gap-5">
        {recording.takes.map((take, index) => (
          <li key={take.takeId}>
            <div className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1">
              <h3 className="font-medium text-zinc-100">Take {index + 1}</h3>
              <p className="text-sm text-zinc-400">
                {formatTime(take.startedAt)} · {formatDuration(takeDuration(take))} · {takeStatusText[take.status]}
              </p>
            </div>
            <ul className="mt-3 flex flex-col gap-3">
              {take.participants.map((p) => (
                <UploadRow key={p.participantId} name={participantName(recording, p.participantId)} upload={p} missing={take.missing?.[p.participantId]} />
              ))}
            </ul>
          </li>
        ))}
      </ol>
    </Card>
  );
}

function UploadRow({ name, upload, missing }: { name: string; upload: TakeParticipant; missing?: { declared: number; stored: number } }) {
  const total = upload.chunkCount;
  let text: string;
  if (missing) text = `${missing.stored} of ${missing.declared} parts arrived; rendered without the rest`;
  else if (upload.completed) text = `All ${upload.chunksStored} parts uploaded`;
  else if (total !== null) text = `${upload.chunksStored} of ${total} parts uploaded`;
  else text = `${upload.chunksStored} parts uploaded${upload.chunksPending ? `, ${upload.chunksPending} on the way` : ''}`;
  return (
    <li className="flex flex-col gap-1.5">
      <div className="flex flex-wrap justify-between gap-x-3 text-sm">
        <span className="min-w-0 truncate text-zinc-200">{name}</span>
        <span className="text-zinc-400">{text}</span>
      </div>
      {total !== null && total > 0 ? (
        <ProgressBar value={upload.chunksStored} max={total} label={`Upload of ${name}`} tone={upload.completed ? 'emerald' : 'sky'} />
      ) : (
        !upload.completed && <ProgressBar value={upload.chunksStored} max={upload.chunksStored + upload.chunksPending || 1} label={`Upload of ${name}`} tone="sky" />
      )}
    </li>
  );
}
