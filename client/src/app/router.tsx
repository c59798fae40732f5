import { createBrowserRouter } from 'react-router-dom';

import { HomePage } from '../pages/HomePage';
import { StudioPage } from '../studio/StudioPage';

export const router = createBrowserRouter([
  { path: '/', element: <HomePage /> },
  { path: '/studio/:roomId', element: <StudioPage /> },
]);
