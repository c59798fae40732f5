// One visit to the room, from Join to Leave: the socket, the WebRTC mesh and the recording
// bridge, turned into Redux actions. Components read the store and call the methods here.

import type { Dispatch } from '@reduxjs/toolkit';

import { Mesh } from '../../rtc/Mesh';
import { mediaStateOf, type MediaState } from '../../rtc/mediaState';
import { RoomSocket, SocketError, localNow, onPong, type ErrorCode, type JoinedMessage } from '../../services/socket';
import { serverClock } from '../../recording/clock';
import type { Resolution } from '../../recording/mediaSettings';
import type { StudioIdentity } from '../identity';
import { LOCAL_STREAM, streamRegistry } from '../media/streamRegistry';
import * as recordingBridge from '../recordingBridge';
import { chatActions } from '../state/chatSlice';
import { recordingActions } from '../state/recordingSlice';
import { roomActions } from '../state/roomSlice';
import { uploadsActions } from '../state/uploadsSlice';

// Errors worth telling the user about; the rest are handled where they happen.
const NOTICE_CODES = new Set<ErrorCode>(['already_recording', 'not_recording', 'forbidden', 'rate_limited', 'internal_error', 'invalid_message']);
const UPLOAD_STATUS_MIN_GAP_MS = 1_000;

export class StudioSession {
  private readonly socket: RoomSocket;
  private readonly mesh: Mesh;
  /** joined.serverTime - localNow(): the server's time until the first pong syncs serverClock. */
  private roughOffset: number | null = null;
  private readonly cleanups: Array<() => void> = [];
  private selfId: string | null = null;
  private leaving = false;
  private lastUploadSentAt = 0;
  private uploadTimer: ReturnType<typeof setTimeout> | null = null;
  private latestUpload: recordingBridge.UploadProgress | null = null;

  constructor(
    private readonly roomId: string,
    private readonly identity: StudioIdentity,
    private readonly localStream: MediaStream,
    private readonly dispatch: Dispatch,
    private readonly resolution: Resolution = '720p',
  ) {
    this.socket = new RoomSocket({ roomId, token: identity.token, refreshToken: identity.refreshToken });
    this.mesh = new Mesh('', localStream, {
      signal: (to, type, payload) => this.socket.send({ type, to, payload }),
      remoteStream: (id, stream) => streamRegistry.set(id, stream),
      mediaState: (id, media) => dispatch(roomActions.remoteMediaChanged({ id, media })),
      connectionState: (id, link) => dispatch(roomActions.linkChanged({ id, link })),
    });
  }

  start(): void {
    const d = this.dispatch;
    d(roomActions.entered({ roomId: this.roomId, localMedia: mediaStateOf(this.localStream) }));
    d(recordingActions.reset());
    d(chatActions.reset());
    d(uploadsActions.reset());
    streamRegistry.set(LOCAL_STREAM, this.localStream);
    recordingBridge.prepareRecorder();

    const s = this.socket;
    this.cleanups.push(
      s.onStatus((state) => {
        d(roomActions.connectionChanged(state));
        if (state.status === 'closed' && !this.leaving) this.end('closed', state.error?.code ?? null, state.error?.message ?? 'Disconnected.');
      }),
      s.on('joined', (m) => this.joined(m)),
      s.on('peer-joined', ({ participant }) => {
        if (participant.id === this.selfId) return;
        d(roomActions.peerJoined(participant));
        this.mesh.restart(participant.id);
      }),
      s.on('peer-left', ({ participantId }) => {
        d(roomActions.peerLeft(participantId));
        this.mesh.remove(participantId);
      }),
      s.on('offer', (m) => this.mesh.receive(m.from, 'offer', m.payload)),
      s.on('answer', (m) => this.mesh.receive(m.from, 'answer', m.payload)),
      s.on('candidate', (m) => this.mesh.receive(m.from, 'candidate', m.payload)),
      s.on('chat', ({ message }) => d(chatActions.received({ message, seen: message.from === this.selfId }))),
      s.on('upload-status', (m) => d(uploadsActions.statusReceived(m))),
      s.on('recording.started', ({ takeId, startAt }) => {
        d(recordingActions.started({ takeId, startAt }));
        this.recordingStarted(takeId, startAt);
      }),
      s.on('recording.stopped', ({ takeId, stopAt }) => {
        d(recordingActions.stopped({ takeId, stopAt }));
        recordingBridge.onRecordingStopped({ takeId, stopAtServerMs: stopAt });
      }),
      s.on('mute-request', () => {
        this.setMicrophone(false);
        d(roomActions.noticeAdded({ code: 'muted_by_host', message: 'The host muted your microphone.' }));
      }),
      s.on('removed', () => this.end('removed', 'removed', 'The host removed you from this session.')),
      s.on('error', ({ code, message }) => {
        if (NOTICE_CODES.has(code)) d(roomActions.noticeAdded({ code, message }));
      }),
      // serverClock (the recorder's, fed by recordingBridge from the same pongs) is the one
      // estimate of the server's time; the studio shows the offset it has now.
      onPong(() => {
        const offset = serverClock.offsetMs;
        if (offset !== null) d(recordingActions.clockMeasured(Math.round(offset)));
      }),
      recordingBridge.subscribeUploadProgress((p) => this.uploadProgress(p)),
    );
    s.connect();
  }

  /** The server's clock now (epoch ms), as well as we know it. */
  serverNow = (): number =>
    serverClock.synced ? serverClock.serverNow() : localNow() + (this.roughOffset ?? Date.now() - localNow());

  setMicrophone(on: boolean): void {
    for (const t of this.localStream.getAudioTracks()) t.enabled = on;
    this.mediaChanged();
  }

  setCamera(on: boolean): void {
    for (const t of this.localStream.getVideoTracks()) t.enabled = on;
    this.mediaChanged();
  }

  /** Resolves once the server has echoed the message to the room. */
  async sendChat(text: string): Promise<void> {
    const trimmed = text.trim();
    await this.socket.request({ type: 'chat', text: trimmed }, {
      answer: 'chat',
      match: (m) => m.message.from === this.selfId && m.message.text === trimmed,
      errors: ['invalid_message', 'rate_limited'],
    });
  }

  async startRecording(): Promise<void> {
    await this.hostRequest('start', () =>
      this.socket.request({ type: 'recording.start' }, { answer: 'recording.started', errors: ['already_recording', 'forbidden', 'internal_error'] }),
    );
  }

  async stopRecording(): Promise<void> {
    await this.hostRequest('stop', () =>
      this.socket.request({ type: 'recording.stop' }, { answer: 'recording.stopped', errors: ['not_recording', 'forbidden', 'internal_error'] }),
    );
  }

  askToMute(participantId: string): void {
    this.socket.send({ type: 'mute', participantId });
  }

  removeParticipant(participantId: string): void {
    this.socket.send({ type: 'remove', participantId });
  }

  leave(): void {
    if (this.leaving) return;
    this.end('left', null, 'You left the studio.');
  }

  // -------------------------------------------------------------------------------------------

  private joined(m: JoinedMessage): void {
    const d = this.dispatch;
    if (this.selfId) recordingBridge.onReconnected(); // a rejoin: uploads check in again
    this.selfId = m.participantId;
    this.roughOffset = m.serverTime - localNow();
    d(roomActions.joined(m));
    d(roomActions.remoteMediaChanged({ id: m.participantId, media: mediaStateOf(this.localStream) }));
    d(recordingActions.synced(m.recording));
    d(chatActions.historyLoaded(m.chat));
    d(uploadsActions.loaded(m.uploads));
    this.mesh.setSelf(m.participantId, m.iceServers);
    this.mesh.restartAll(m.participants.map((p) => p.id));
    if (m.recording.state === 'recording' && m.recording.takeId && m.recording.startAt !== null) {
      this.recordingStarted(m.recording.takeId, m.recording.startAt);
    }
    if (this.latestUpload) this.sendUploadStatus();
  }

  private recordingStarted(takeId: string, startAt: number): void {
    if (!this.selfId) return;
    recordingBridge.onRecordingStarted({
      roomId: this.roomId,
      participantId: this.selfId,
      takeId,
      startAtServerMs: startAt,
      serverNow: this.serverNow,
      stream: this.localStream,
      resolution: this.resolution,
      auth: this.identity.auth,
    });
  }

  private async hostRequest(kind: 'start' | 'stop', send: () => Promise<unknown>): Promise<void> {
    this.dispatch(recordingActions.requested(kind));
    try {
      await send();
    } catch (err) {
      this.dispatch(recordingActions.requested(null));
      const code = err instanceof SocketError ? err.code : 'internal_error';
      // Server errors already became notices (NOTICE_CODES); these did not.
      if (code === 'timeout' || code === 'not_connected') {
        this.dispatch(roomActions.noticeAdded({ code, message: (err as Error).message }));
      }
    }
  }

  private mediaChanged(): void {
    const media: MediaState = mediaStateOf(this.localStream);
    this.dispatch(roomActions.localMediaChanged(media));
    if (this.selfId) this.dispatch(roomActions.remoteMediaChanged({ id: this.selfId, media }));
    this.mesh.setLocalMediaState(media);
  }

  // Progress may change many times a second; the server hears of it at most once a second.
  private uploadProgress(p: recordingBridge.UploadProgress): void {
    this.latestUpload = p;
    this.dispatch(uploadsActions.localProgress(p));
    if (this.uploadTimer) return;
    const wait = Math.max(0, this.lastUploadSentAt + UPLOAD_STATUS_MIN_GAP_MS - localNow());
    this.uploadTimer = setTimeout(() => {
      this.uploadTimer = null;
      this.sendUploadStatus();
    }, wait);
  }

  private sendUploadStatus(): void {
    const p = this.latestUpload;
    if (!p) return;
    if (this.socket.send({ type: 'upload-status', recorded: p.recorded, uploaded: p.uploaded })) this.lastUploadSentAt = localNow();
  }

  private end(reason: 'left' | 'removed' | 'closed', code: string | null, message: string): void {
    if (this.leaving) return;
    this.leaving = true;
    this.dispatch(roomActions.ended({ reason, code, message }));
    this.cleanups.splice(0).forEach((c) => c());
    if (this.uploadTimer) clearTimeout(this.uploadTimer);
    this.socket.leave();
    this.mesh.close();
    streamRegistry.clear();
    recordingBridge.onStudioLeft();
  }
}
