// What goes in the `payload` of offer / answer / candidate messages. The server relays it
// untouched, so besides the standard description or candidate fields it carries `gen`: the
// sending RTCPeerConnection's generation, strictly increasing per sender (also across page
// reloads). A receiver uses it to tell a peer's new connection from a stale message of its old
// one. Payloads without `gen` (other clients) are taken as belonging to the current connection.

export type DescriptionPayload = RTCSessionDescriptionInit & { gen?: number };
export type CandidatePayload = RTCIceCandidateInit & { gen?: number };

let lastGen = 0;

/** A new generation number for a local RTCPeerConnection. */
export function nextGeneration(): number {
  lastGen = Math.max(Date.now(), lastGen + 1);
  return lastGen;
}

export function isDescription(payload: unknown): payload is DescriptionPayload {
  const p = payload as DescriptionPayload | null;
  return !!p && typeof p === 'object' && (p.type === 'offer' || p.type === 'answer') && typeof p.sdp === 'string';
}

export function isCandidate(payload: unknown): payload is CandidatePayload {
  const p = payload as CandidatePayload | null;
  return !!p && typeof p === 'object' && typeof p.candidate === 'string';
}

export function generationOf(payload: unknown): number | undefined {
  const gen = (payload as { gen?: unknown } | null)?.gen;
  return typeof gen === 'number' ? gen : undefined;
}
