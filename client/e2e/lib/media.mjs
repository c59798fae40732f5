// What the take tests check after the browsers are done: the recording as the host's API
// shows it, and its media with the ffmpeg CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** The ffmpeg CLI and ffprobe are there (the tests that check media skip without them). */
export async function haveFfmpeg() {
  try {
    await run('ffmpeg', ['-version']);
    await run('ffprobe', ['-version']);
    return true;
  } catch {
    return false;
  }
}

/** The recording as the host's dashboard sees it. */
export async function recordingOf(server, session) {
  const res = await server.request('GET', `/api/recordings/${session.roomId}`, { token: session.host.accessToken });
  assert.equal(res.status, 200, res.text);
  return res.body.recording;
}
