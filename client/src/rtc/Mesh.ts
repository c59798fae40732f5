// The call: one PeerLink per remote participant (a full mesh). The polite side of each pair is
// the one with the smaller participant id, so both ends agree without talking.
//
// Reconnects: a participant that (re)joins the room starts fresh connections to everyone
// (`restartAll`), and everyone else starts a fresh one to it on its `peer-joined` (`restart`).
// If a `peer-joined` never arrives (the protocol says it may not), the peer's offer carries a
// newer generation than the connection we know, and we restart on receiving it.

import type { SignalType } from '../services/socket';
import { mediaStateOf, type MediaState } from './mediaState';
import { PeerLink } from './PeerLink';
import { generationOf, isDescription } from './signalPayload';

export interface MeshEvents {
  signal(to: string, type: SignalType, payload: unknown): void;
  remoteStream(participantId: string, stream: MediaStream | null): void;
  mediaState(participantId: string, state: MediaState): void;
  connectionState(participantId: string, state: RTCPeerConnectionState): void;
}

export class Mesh {
  private readonly links = new Map<string, PeerLink>();
  // Per peer: generations at or below this belong to connections we have already replaced.
  private readonly staleUpTo = new Map<string, number>();
  private iceServers: RTCIceServer[] = [];
  private localStream: MediaStream | null;
  private localState: MediaState;

  constructor(
    private selfId: string,
    localStream: MediaStream | null,
    private readonly events: MeshEvents,
  ) {
    this.localStream = localStream;
    this.localState = mediaStateOf(localStream);
  }

  setSelf(selfId: string, iceServers: RTCIceServer[]): void {
    this.selfId = selfId;
    this.iceServers = iceServers;
  }

  /** Fresh connections to exactly these participants (after we joined or rejoined). */
  restartAll(participantIds: string[]): void {
    for (const id of [...this.links.keys()]) this.remove(id);
    for (const id of participantIds) if (id !== this.selfId) this.restart(id);
  }

  /** A fresh connection to one participant (it joined, or rejoined). */
  restart(participantId: string): PeerLink {
    const old = this.links.get(participantId);
    if (old) {
      if (old.remoteGen !== null) this.staleUpTo.set(participantId, old.remoteGen);
      old.close();
      this.events.remoteStream(participantId, null);
    }
    const link: PeerLink = new PeerLink({
      remoteId: participantId,
      polite: this.selfId < participantId,
      iceServers: this.iceServers,
      localStream: this.localStream,
      localState: this.localState,
      events: {
        signal: (type, payload) => this.events.signal(participantId, type, payload),
        remoteStream: (stream) => this.links.get(participantId) === link && this.events.remoteStream(participantId, stream),
        mediaState: (state) => this.links.get(participantId) === link && this.events.mediaState(participantId, state),
        connectionState: (state) => this.links.get(participantId) === link && this.events.connectionState(participantId, state),
      },
    });
    this.links.set(participantId, link);
    this.events.connectionState(participantId, link.connectionState);
    return link;
  }

  remove(participantId: string): void {
    this.links.get(participantId)?.close();
    this.links.delete(participantId);
    this.events.remoteStream(participantId, null);
  }

  /** An offer, answer or candidate relayed from `from`. */
  receive(from: string, type: SignalType, payload: unknown): void {
    const gen = generationOf(payload);
    if (gen !== undefined && gen <= (this.staleUpTo.get(from) ?? 0)) return;
    let link = this.links.get(from);
    if (!link) {
      if (type !== 'offer') return;
      link = this.restart(from);
    } else if (gen !== undefined && link.remoteGen !== null && gen !== link.remoteGen) {
      if (gen < link.remoteGen) return;
      // The peer has a new connection: only its offer can start ours over.
      if (type !== 'offer' || !isDescription(payload)) return;
      link = this.restart(from);
    }
    if (gen !== undefined) link.remoteGen = gen;
    void link.receive(payload);
  }

  /** Microphone / camera on or off (track.enabled), told to every peer. */
  setLocalMediaState(state: MediaState): void {
    this.localState = state;
    for (const link of this.links.values()) link.setMediaState(state);
  }

  close(): void {
    for (const id of [...this.links.keys()]) this.remove(id);
  }
}
