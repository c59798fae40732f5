import { useDispatch, useSelector } from 'react-redux';

import type { StudioState } from './index';

// Typed for the studio's part of the store only, so the studio does not depend on the rest.
export const useStudioSelector = <T>(select: (s: StudioState) => T): T =>
  useSelector((root: { studio: StudioState }) => select(root.studio));

export const useStudioDispatch = useDispatch;
