import { useId } from 'react';

export interface Choice<T extends string> {
  value: T;
  label: string;
  description?: string;
}

/** Radio buttons drawn as selectable tiles; arrow keys move between them like any radio group. */
export function ChoiceGroup<T extends string>({
  legend,
  name,
  choices,
  value,
  onChange,
  disabled = false,
}: {
  legend: string;
  name: string;
  choices: Choice<T>[];
  value: T;
  onChange: (value: T) => void;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <fieldset disabled={disabled} className="min-w-0">
      <legend className="mb-2 text-sm font-medium text-zinc-200">{legend}</legend>
      <div className="grid grid-cols-1 gap-2 sm:grid-cols-3">
        {choices.map((choice) => (
          <label
            key={choice.value}
            htmlFor={`${id}-${choice.value}`}
            className={[
              'flex cursor-pointer flex-col rounded-lg border px-3 py-2 text-sm transition-colors',
              'has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-offset-2 has-[:focus-visible]:outline-emerald-400',
              'has-[:disabled]:cursor-not-allowed has-[:disabled]:opacity-60',
              value === choice.value ? 'border-emerald-400 bg-emerald-400/10' : 'border-zinc-700 hover:border-zinc-500',
            ].join(' ')}
          >
            <span className="flex items-center gap-2">
              <input
                id={`${id}-${choice.value}`}
                type="radio"
                name={name}
                value={choice.value}
                checked={value === choice.value}
                onChange={() => onChange(choice.value)}
                className="accent-emerald-400"
              />
              <span className="font-medium text-zinc-100">{choice.label}</span>
            </span>
            {choice.description && <span className="mt-0.5 pl-6 text-zinc-400">{choice.description}</span>}
          </label>
        ))}
      </div>
    </fieldset>
  );
}
