// One RTCPeerConnection to one remote participant, negotiated with the "perfect negotiation"
// pattern (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example): either side may offer
// at any time; on a collision the polite side rolls back and answers, the impolite side ignores
// the other's offer. ICE is restarted when the connection fails or stays disconnected.
//
// Collisions are handled, but avoided where it is cheap: Chromium sometimes never gathers ICE
// candidates after the polite side rolls back an offer it was still making, which leaves the
// call silent. So the impolite side makes the first offer and restarts ICE first; the polite
// side does either only if nothing has happened after a while.

import type { SignalType } from '../services/socket';
import { STATE_CHANNEL, mediaStateMessage, parseMediaState, type MediaState } from './mediaState';
import { isCandidate, isDescription, nextGeneration } from './signalPayload';

export interface PeerLinkEvents {
  signal(type: SignalType, payload: unknown): void;
  remoteStream(stream: MediaStream): void;
  mediaState(state: MediaState): void;
  connectionState(state: RTCPeerConnectionState): void;
}

export interface PeerLinkOptions {
  remoteId: string;
  polite: boolean;
  iceServers: RTCIceServer[];
  localStream: MediaStream | null;
  localState: MediaState;
  events: PeerLinkEvents;
}

// How long the polite side waits for the first offer before making one itself.
const POLITE_FIRST_OFFER_MS = 2_000;
// How long "disconnected" may last before ICE is restarted (it often recovers by itself), and
// how much longer the polite side leaves it to the impolite one.
const DISCONNECTED_GRACE_MS = 3_000;
const POLITE_RESTART_DELAY_MS = 3_000;
const CALL_MAX_HEIGHT = 720;

export class PeerLink {
  readonly remoteId: string;
  /** This connection's generation (see signalPayload.ts). */
  readonly gen = nextGeneration();
  /** The remote connection's generation, once a message from it has arrived. */
  remoteGen: number | null = null;

  private readonly pc: RTCPeerConnection;
  private readonly polite: boolean;
  private readonly events: PeerLinkEvents;
  private readonly channel: RTCDataChannel;
  private localState: MediaState;
  private remoteStream: MediaStream | null = null;
  private makingOffer = false;
  private ignoreOffer = false;
  private settingRemoteAnswer = false;
  private negotiated = false;
  private incoming: Promise<void> = Promise.resolve();
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private iceTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(options: PeerLinkOptions) {
    this.remoteId = options.remoteId;
    this.polite = options.polite;
    this.events = options.events;
    this.localState = options.localState;
    this.pc = new RTCPeerConnection({ iceServers: options.iceServers });

    this.channel = this.pc.createDataChannel(STATE_CHANNEL.label, { negotiated: true, id: STATE_CHANNEL.id });
    this.channel.onopen = () => this.channel.send(mediaStateMessage(this.localState));
    this.channel.onmessage = (event) => {
      const state = parseMediaState(event.data);
      if (state) this.events.mediaState(state);
    };

    const stream = options.localStream;
    if (stream) for (const track of stream.getTracks()) this.addLocalTrack(track, stream);
    // Receive both kinds even when we have nothing to send (no camera, say).
    for (const kind of ['audio', 'video'] as const) {
      if (!stream?.getTracks().some((t) => t.kind === kind)) this.pc.addTransceiver(kind, { direction: 'recvonly' });
    }

    this.pc.onnegotiationneeded = () => {
      if (this.polite && !this.negotiated) this.later(() => !this.negotiated && this.pc.signalingState === 'stable' && this.offer(), POLITE_FIRST_OFFER_MS);
      else void this.offer();
    };
    this.pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.events.signal('candidate', { ...candidate.toJSON(), gen: this.gen });
    };
    this.pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] ?? this.remoteStream ?? new MediaStream();
      if (!stream.getTracks().includes(track)) stream.addTrack(track);
      this.remoteStream = stream;
      this.events.remoteStream(stream);
    };
    this.pc.onconnectionstatechange = () => this.events.connectionState(this.pc.connectionState);
    this.pc.oniceconnectionstatechange = () => this.watchIce();
  }

  /**
   * The call sends video at most CALL_MAX_HEIGHT tall: a 1080p camera opened for the local
   * recording reaches the others scaled down, which keeps the mesh's uplink in bounds.
   */
  private addLocalTrack(track: MediaStreamTrack, stream: MediaStream): void {
    const height = track.kind === 'video' ? (track.getSettings().height ?? 0) : 0;
    if (height <= CALL_MAX_HEIGHT) {
      this.pc.addTrack(track, stream);
      return;
    }
    this.pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream], sendEncodings: [{ scaleResolutionDownBy: height / CALL_MAX_HEIGHT }] });
  }

  get connectionState(): RTCPeerConnectionState {
    return this.pc.connectionState;
  }

  /**
   * An offer, answer or candidate from the remote side (its `gen` already checked). Handled one
   * at a time, in order, so a candidate is never applied before the description it belongs to.
   */
  receive(payload: unknown): Promise<void> {
    this.incoming = this.incoming.then(() => this.handle(payload));
    return this.incoming;
  }

  setMediaState(state: MediaState): void {
    this.localState = state;
    if (this.channel.readyState === 'open') this.channel.send(mediaStateMessage(state));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.pc.onnegotiationneeded = this.pc.onicecandidate = this.pc.ontrack = null;
    this.pc.onconnectionstatechange = this.pc.oniceconnectionstatechange = null;
    this.channel.onopen = this.channel.onmessage = null;
    this.pc.close();
  }

  private async handle(payload: unknown): Promise<void> {
    if (this.closed) return;
    try {
      if (isDescription(payload)) await this.receiveDescription({ type: payload.type, sdp: payload.sdp });
      else if (isCandidate(payload)) await this.receiveCandidate(payload);
    } catch (err) {
      console.warn(`[rtc] ${this.remoteId}: signalling failed`, err);
    }
  }

  private async offer(): Promise<void> {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.sendDescription();
    } catch (err) {
      console.warn(`[rtc] ${this.remoteId}: offer failed`, err);
    } finally {
      this.makingOffer = false;
    }
  }

  private async receiveDescription(description: RTCSessionDescriptionInit): Promise<void> {
    const readyForOffer = !this.makingOffer && (this.pc.signalingState === 'stable' || this.settingRemoteAnswer);
    const collision = description.type === 'offer' && !readyForOffer;
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    this.settingRemoteAnswer = description.type === 'answer';
    try {
      await this.pc.setRemoteDescription(description); // rolls back our own offer if needed
    } finally {
      this.settingRemoteAnswer = false;
    }
    this.negotiated = true;
    if (description.type === 'offer') {
      await this.pc.setLocalDescription();
      this.sendDescription();
    }
  }

  private async receiveCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    try {
      const { candidate: c, sdpMid, sdpMLineIndex, usernameFragment } = candidate;
      await this.pc.addIceCandidate({ candidate: c, sdpMid, sdpMLineIndex, usernameFragment });
    } catch (err) {
      // Candidates of an offer we ignored fail to apply; that is expected.
      if (!this.ignoreOffer) throw err;
    }
  }

  private sendDescription(): void {
    const description = this.pc.localDescription;
    if (!description || this.closed) return;
    this.events.signal(description.type as SignalType, { type: description.type, sdp: description.sdp, gen: this.gen });
  }

  private watchIce(): void {
    const state = this.pc.iceConnectionState;
    if (this.iceTimer) clearTimeout(this.iceTimer);
    this.iceTimer = null;
    if (state !== 'failed' && state !== 'disconnected') return;
    const delay = (state === 'disconnected' ? DISCONNECTED_GRACE_MS : 0) + (this.polite ? POLITE_RESTART_DELAY_MS : 0);
    this.iceTimer = this.later(() => {
      const now = this.pc.iceConnectionState;
      if (now === 'failed' || now === 'disconnected') this.pc.restartIce();
    }, delay);
  }

  private later(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }
}
