import { useEffect, useId, useRef, useState } from 'react';

import { Button } from './Button';
import { focusRing } from './focusRing';

/** A read-only value (an invite link) with a button that copies it. */
export function CopyField({ label, value, hint }: { label: string; value: string; hint?: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);

  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(null), 2500);
    return () => clearTimeout(timer);
  }, [copied]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      // No clipboard permission: select the text so Ctrl+C / long-press copies it.
      input.current?.select();
      setCopied('failed');
    }
  }

  return (
    // Side by side only where the box is wide enough (a container query: it also sits in narrow columns).
    <div className="@container flex flex-col gap-1.5">
      <label htmlFor={id} className="text-sm font-medium text-zinc-200">
        {label}
      </label>
      <div className="flex flex-col gap-2 @md:flex-row">
        <input
          id={id}
          ref={input}
          readOnly
          value={value}
          onFocus={(e) => e.currentTarget.select()}
          className={`min-h-10 w-full min-w-0 flex-1 rounded-lg border border-zinc-700 bg-zinc-950 px-3 py-2 font-mono text-sm text-zinc-200 ${focusRing}`}
        />
        <Button variant="secondary" onClick={copy} className="shrink-0">
          {copied === 'yes' ? 'Copied' : 'Copy link'}
        </Button>
      </div>
      <p aria-live="polite" className="min-h-5 text-sm text-zinc-400">
        {copied === 'yes' && 'Link copied to the clipboard.'}
        {copied === 'failed' && 'Copying is blocked here: the link is selected, copy it with Ctrl+C.'}
        {!copied && hint}
      </p>
    </div>
  );
}
