// In the room: everyone's tiles, the controls, the chat, and the take's countdown and timer.
import { useCallback, useState } from 'react';

import { ChatPanel } from './ChatPanel';
import { ConnectionBanner } from './ConnectionBanner';
import { ControlBar } from './ControlBar';
import { CountdownOverlay } from './CountdownOverlay';
import { LeaveSafetyBanner } from './LeaveSafetyBanner';
import { Notices } from './Notices';
import { RecordingStatus } from './RecordingStatus';
import { TileGrid } from './TileGrid';

export function Room({ selfName }: { selfName: string }) {
  const [chatOpen, setChatOpen] = useState(false);
  const closeChat = useCallback(() => setChatOpen(false), []);
  return (
    <div className="flex h-dvh flex-col">
      <header className="flex shrink-0 items-center justify-between gap-3 border-b border-zinc-800 px-4 py-2.5">
        <h1 className="text-base font-semibold">
          Zencast <span className="font-normal text-zinc-400">studio</span>
        </h1>
        <RecordingStatus />
      </header>
      <ConnectionBanner />
      <LeaveSafetyBanner />
      <div className="flex min-h-0 flex-1">
        <main className="flex min-w-0 flex-1 flex-col overflow-y-auto p-3 sm:p-4">
          <TileGrid selfName={selfName} />
        </main>
        <ChatPanel open={chatOpen} onClose={closeChat} />
      </div>
      <ControlBar chatOpen={chatOpen} onToggleChat={() => setChatOpen((o) => !o)} />
      <CountdownOverlay />
      <Notices />
    </div>
  );
}
