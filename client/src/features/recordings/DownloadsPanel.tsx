import { Card } from '../../components/Card';
import { focusRing } from '../../components/focusRing';
import type { RecordingDetail } from '../../services/types';
import { participantName } from './participantName';

const linkClass = `inline-flex min-h-9 items-center rounded-md border border-zinc-700 px-3 py-1.5 text-sm font-medium text-zinc-100 hover:bg-zinc-800 ${focusRing}`;

/** final.mp4 and each participant's own WAV and video, once a render has finished. */
export function DownloadsPanel({ recording }: { recording: RecordingDetail }) {
  const { downloads } = recording;
  if (!downloads) return null;
  const tracks = Object.entries(downloads.tracks);
  return (
    <Card title="Downloads">
      <div className="flex flex-col gap-4">
        <a href={downloads.final} download="final.mp4" className={`${linkClass} self-start bg-zinc-800/60`}>
          Download final.mp4
        </a>
        {tracks.length > 0 && (
          <div>
            <h3 className="mb-2 text-sm font-medium text-zinc-300">Each participant’s own files</h3>
            <ul className="flex flex-col divide-y divide-zinc-800">
              {tracks.map(([participantId, files]) => {
                const name = participantName(recording, participantId);
                return (
                  <li key={participantId} className="flex flex-wrap items-center justify-between gap-2 py-2">
                    <span className="min-w-0 truncate text-sm text-zinc-200">{name}</span>
                    <span className="flex gap-2">
                      <a href={files.wav} download aria-label={`Audio (WAV) of ${name}`} className={linkClass}>
                        WAV
                      </a>
                      <a href={files.video} download aria-label={`Video of ${name}`} className={linkClass}>
                        Video
                      </a>
                    </span>
                  </li>
                );
              })}
            </ul>
          </div>
        )}
        <p className="text-xs text-zinc-400">Links stay valid for a while; this page renews them.</p>
      </div>
    </Card>
  );
}
