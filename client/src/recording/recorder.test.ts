import { beforeEach, describe, expect, it } from 'vitest';

import { ServerClock } from './clock';
import { buildMediaConstraints, pickMimeType, uploadContentType, UnsupportedRecorderError, VIDEO_TYPES } from './mediaSettings';
import { ChunkRecorder, type MediaRecorderClass, type RecordedChunk } from './recorder';
import { FakeMediaRecorder } from './testSupport';

const Recorder = FakeMediaRecorder as unknown as MediaRecorderClass;
const last = () => FakeMediaRecorder.instances.at(-1)!;
const cameraAndMic = { getVideoTracks: () => [{}], getAudioTracks: () => [{}] } as unknown as MediaStream;
const micOnly = { getVideoTracks: () => [], getAudioTracks: () => [{}] } as unknown as MediaStream;
const tick = () => new Promise<void>((resolve) => setTimeout(resolve));

const OFFSET = 5000; // the server's clock is 5 s ahead of the local one

let now: number;
let clock: ServerClock;
let stored: RecordedChunk[];

function newRecorder(options: Partial<ConstructorParameters<typeof ChunkRecorder>[0]> = {}): ChunkRecorder {
  return new ChunkRecorder({
    stream: cameraAndMic,
    clock,
    MediaRecorder: Recorder,
    sleep: async (ms) => {
      now += ms;
    },
    onChunk: async (chunk) => {
      await tick(); // storing takes a while
      stored.push(chunk);
    },
    ...options,
  });
}

beforeEach(() => {
  FakeMediaRecorder.supported = new Set(VIDEO_TYPES);
  FakeMediaRecorder.instances = [];
  FakeMediaRecorder.beforeStart = () => {};
  now = 1_000_000;
  clock = new ServerClock(() => now);
  clock.onPong({ clientTime: now - 10, serverReceiveTime: now - 5 + OFFSET, serverSendTime: now - 5 + OFFSET }, now);
  stored = [];
});

describe('pickMimeType', () => {
  const pick = (supported: string[], audioOnly = false) => pickMimeType((t) => supported.includes(t), { audioOnly });

  it('prefers VP9, then H.264 (Matroska, then as WebM), then VP8, then MP4', () => {
    expect(pick([...VIDEO_TYPES])).toBe('video/webm;codecs=vp9,opus');
    expect(pick(['video/x-matroska;codecs=avc1,opus', 'video/webm;codecs=h264,opus', 'video/webm;codecs=vp8,opus'])).toBe(
      'video/x-matroska;codecs=avc1,opus',
    );
    expect(pick(['video/webm;codecs=h264,opus', 'video/webm;codecs=vp8,opus', 'video/mp4'])).toBe('video/webm;codecs=h264,opus');
    expect(pick(['video/webm;codecs=vp8,opus', 'video/mp4'])).toBe('video/webm;codecs=vp8,opus');
    expect(pick(['video/mp4;codecs=avc1,mp4a.40.2', 'video/mp4'])).toBe('video/mp4;codecs=avc1,mp4a.40.2');
    expect(pick(['video/mp4'])).toBe('video/mp4');
  });

  it('records audio only without a camera, and refuses when nothing is supported', () => {
    expect(pick(['audio/webm;codecs=opus', 'video/webm;codecs=vp9,opus'], true)).toBe('audio/webm;codecs=opus');
    expect(() => pick(['video/x-msvideo'])).toThrow(UnsupportedRecorderError);
  });

  it('uploads the type the browser really records, in a form the server accepts', () => {
    expect(uploadContentType('video/x-matroska;codecs=avc1.64001F,opus', 'video/webm;codecs=h264,opus')).toBe(
      'video/x-matroska;codecs=avc1.64001F,opus',
    );
    expect(uploadContentType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"', 'video/mp4')).toBe('video/mp4;codecs=avc1.42E01E,mp4a.40.2');
    expect(uploadContentType('', 'video/webm;codecs=vp9,opus')).toBe('video/webm;codecs=vp9,opus');
    expect(uploadContentType('video/quicktime', 'video/mp4')).toBe('video/mp4');
  });
});

describe('buildMediaConstraints', () => {
  it('asks for 720p30 with audio processing by default, 1080p and raw audio on request', () => {
    expect(buildMediaConstraints()).toMatchObject({
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const studio = buildMediaConstraints({ resolution: '1080p', audioProcessing: false, videoDeviceId: 'cam2' });
    expect(studio).toMatchObject({
      video: { width: { ideal: 1920 }, height: { ideal: 1080 }, deviceId: { exact: 'cam2' } },
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    expect(buildMediaConstraints({ video: false }).video).toBe(false);
  });
});

describe('ChunkRecorder', () => {
  it('starts when the server clock reaches startAt, and stamps each chunk with the server time its media starts', async () => {
    const startAt = now + OFFSET + 3000; // three seconds from now, on the server's clock
    FakeMediaRecorder.beforeStart = () => (now += 40); // MediaRecorder takes 40 ms to start
    const recorder = newRecorder();
    const chunk0Start = await recorder.start(startAt);

    expect(chunk0Start).toBe(startAt + 40); // measured at the 'start' event, not assumed
    expect(last().timeslice).toBe(10_000);
    expect(last().options).toMatchObject({ mimeType: 'video/webm;codecs=vp9,opus', videoBitsPerSecond: 4_000_000 });

    now += 10_003;
    last().deliver(5000);
    now += 9_990;
    last().deliver(0); // an empty blob is no chunk
    now += 15;
    last().deliver(4000);
    now += 4_000;
    const count = await recorder.stop();

    expect(count).toBe(3);
    expect(stored.map((c) => [c.index, c.startMs, c.blob.size])).toEqual([
      [0, startAt + 40, 5000],
      [1, startAt + 40 + 10_003 + 9_990, 4000], // after the empty one: its media came after it
      [2, startAt + 40 + 10_003 + 9_990 + 15, 100],
    ]);
    expect(stored.every((c) => c.mimeType === 'video/webm;codecs=vp9,opus')).toBe(true);
  });

  it('resolves stop() only after the last chunk has been stored', async () => {
    const slowStore: RecordedChunk[] = [];
    const recorder = newRecorder({
      onChunk: async (chunk) => {
        for (let i = 0; i < 5; i++) await tick();
        slowStore.push(chunk);
      },
    });
    await recorder.start(0);
    last().deliver(10);
    expect(await recorder.stop()).toBe(2);
    expect(slowStore.map((c) => c.index)).toEqual([0, 1]);
  });

  it('labels chunks with the type actually recorded (H.264 comes as Matroska)', async () => {
    FakeMediaRecorder.supported = new Set(['video/webm;codecs=h264,opus', 'video/webm;codecs=vp8,opus']);
    const recorder = newRecorder();
    expect(recorder.requestedType).toBe('video/webm;codecs=h264,opus');
    await recorder.start(0);
    await recorder.stop();
    expect(stored[0].mimeType).toBe('video/x-matroska;codecs=avc1.64001F,opus');
  });

  it('records the microphone alone as audio/webm', async () => {
    FakeMediaRecorder.supported.add('audio/webm;codecs=opus');
    const recorder = newRecorder({ stream: micOnly });
    await recorder.start(0);
    expect(last().options.mimeType).toBe('audio/webm;codecs=opus');
    expect(last().options.videoBitsPerSecond).toBeUndefined();
    await recorder.stop();
  });

  it('a stop during the countdown cancels the start and records nothing', async () => {
    const recorder = newRecorder({ sleep: () => tick() });
    const starting = recorder.start(now + OFFSET + 60_000);
    expect(await recorder.stop()).toBe(0);
    await expect(starting).rejects.toMatchObject({ code: 'cancelled' });
    expect(FakeMediaRecorder.instances).toEqual([]);
  });

  it('reports a recorder that stops by itself', async () => {
    const errors: string[] = [];
    const recorder = newRecorder({ onError: (e) => errors.push((e as { code?: string }).code ?? e.message) });
    await recorder.start(0);
    last().stop(); // the camera was unplugged
    await tick();
    await tick();
    expect(errors).toEqual(['recorder_stopped']);
    expect(await recorder.stop()).toBe(1);
  });
});
