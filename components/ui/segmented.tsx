import { cx } from "./cx";

/**
 * A row of toggle buttons of which exactly one is pressed (aria-pressed), for a small choice such as the
 * colour theme or a data view. Keyboard: each option is a real button.
 */
export function Segmented<T extends string>({
  label,
  options,
  value,
  onChange,
  className,
}: {
  /** The group's accessible name. */
  label: string;
  options: readonly { value: T; label: string }[];
  value: T;
  onChange: (value: T) => void;
  className?: string;
}) {
  return (
    <div role="group" aria-label={label} className={cx("flex rounded-md border border-line p-0.5", className)}>
      {options.map((option) => (
        <button
          key={option.value}
          type="button"
          aria-pressed={value === option.value}
          onClick={() => onChange(option.value)}
          className={cx(
            "rounded px-2 py-0.5 text-xs",
            value === option.value ? "bg-accent text-on-accent" : "text-muted hover:bg-subtle",
          )}
        >
          {option.label}
        </button>
      ))}
    </div>
  );
}
