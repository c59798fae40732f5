import { createSelector } from '@reduxjs/toolkit';

import type { StudioState } from './index';
import type { StudioParticipant } from './roomSlice';

export const selectSelf = (s: StudioState) => s.room.self;
export const selectIsHost = (s: StudioState) => s.room.self?.role === 'host';
export const selectConnection = (s: StudioState) => s.room.connection;

export const selectParticipants = createSelector(
  [(s: StudioState) => s.room.order, (s: StudioState) => s.room.participants],
  (order, participants): StudioParticipant[] => order.map((id) => participants[id]).filter((p): p is StudioParticipant => !!p),
);

/** Upload progress to show on a participant's tile: hosts see everyone's, guests their own. */
export function selectUploadFor(s: StudioState, participantId: string): { recorded: number; uploaded: number } | null {
  if (participantId === s.room.self?.id && s.uploads.local) return s.uploads.local;
  return s.uploads.byParticipant[participantId] ?? null;
}
