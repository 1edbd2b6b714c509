import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";
import { cx } from "./cx";

// Labelled form controls. Every control gets a <label> bound by id; `hint` is announced via aria-describedby.

/** Base look of inputs and selects (no width). */
export const controlBaseClass =
  "rounded-md border border-line bg-surface px-2.5 py-1.5 text-sm text-ink placeholder:text-muted/70 disabled:opacity-60";

export const controlClass = `w-full ${controlBaseClass}`;

function Wrapper({ id, label, hint, children, className }: { id: string; label: ReactNode; hint?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <div className={cx("flex flex-col gap-1", className)}>
      <label htmlFor={id} className="text-xs font-medium text-muted">
        {label}
      </label>
      {children}
      {hint && (
        <p id={`${id}-hint`} className="text-xs text-muted">
          {hint}
        </p>
      )}
    </div>
  );
}

export function TextField({
  label,
  hint,
  className,
  ...input
}: InputHTMLAttributes<HTMLInputElement> & { label: ReactNode; hint?: ReactNode }) {
  const id = useId();
  return (
    <Wrapper id={id} label={label} hint={hint} className={className}>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} className={controlClass} {...input} />
    </Wrapper>
  );
}

export function TextAreaField({
  label,
  hint,
  className,
  ...input
}: TextareaHTMLAttributes<HTMLTextAreaElement> & { label: ReactNode; hint?: ReactNode }) {
  const id = useId();
  return (
    <Wrapper id={id} label={label} hint={hint} className={className}>
      <textarea
        id={id}
        aria-describedby={hint ? `${id}-hint` : undefined}
        className={cx(controlClass, "font-mono")}
        {...input}
      />
    </Wrapper>
  );
}

export function SelectField({
  label,
  hint,
  className,
  children,
  ...select
}: SelectHTMLAttributes<HTMLSelectElement> & { label: ReactNode; hint?: ReactNode }) {
  const id = useId();
  return (
    <Wrapper id={id} label={label} hint={hint} className={className}>
      <select id={id} aria-describedby={hint ? `${id}-hint` : undefined} className={controlClass} {...select}>
        {children}
      </select>
    </Wrapper>
  );
}

export function CheckboxField({
  label,
  className,
  ...input
}: Omit<InputHTMLAttributes<HTMLInputElement>, "type"> & { label: ReactNode }) {
  const id = useId();
  return (
    <div className={cx("flex items-center gap-2", className)}>
      <input id={id} type="checkbox" className="size-4 accent-[var(--color-accent)]" {...input} />
      <label htmlFor={id} className="text-sm">
        {label}
      </label>
    </div>
  );
}
