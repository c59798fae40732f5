import { useId } from 'react';

interface Props {
  label: string;
  devices: MediaDeviceInfo[];
  /** The device in use (from the track's settings), shown as selected. */
  value: string | null;
  onChange: (deviceId: string) => void;
  disabled?: boolean;
}

export function DeviceSelect({ label, devices, value, onChange, disabled }: Props) {
  const id = useId();
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm text-zinc-400">
        {label}
      </label>
      <select
        id={id}
        value={value ?? ''}
        disabled={disabled || devices.length === 0}
        onChange={(e) => onChange(e.target.value)}
        className="w-full min-w-0 truncate rounded-lg border border-zinc-700 bg-zinc-900 px-3 py-2 text-sm text-zinc-100 focus-visible:outline-2 focus-visible:outline-emerald-400"
      >
        {devices.length === 0 && <option value="">None found</option>}
        {devices.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label || `${label} ${i + 1}`}
          </option>
        ))}
      </select>
    </div>
  );
}
