import type { ButtonHTMLAttributes, Ref } from "react";
import { cx } from "./cx";

// The one button of the UI. `type` defaults to "button" so a button inside a form never submits by accident.

export type ButtonVariant = "primary" | "secondary" | "danger" | "ghost";

const variants: Record<ButtonVariant, string> = {
  primary: "bg-accent text-on-accent border-accent hover:opacity-90",
  secondary: "bg-surface text-ink border-line hover:bg-subtle",
  danger: "bg-danger text-on-accent border-danger hover:opacity-90",
  ghost: "bg-transparent text-ink border-transparent hover:bg-subtle",
};

export type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: ButtonVariant;
  size?: "sm" | "md";
  ref?: Ref<HTMLButtonElement>;
};

export function Button({ variant = "secondary", size = "md", type = "button", className, ref, ...rest }: ButtonProps) {
  return (
    <button
      ref={ref}
      type={type}
      className={cx(
        "inline-flex items-center justify-center gap-1.5 rounded-md border font-medium whitespace-nowrap",
        "disabled:cursor-not-allowed disabled:opacity-50",
        size === "sm" ? "px-2.5 py-1 text-xs" : "px-3.5 py-1.5 text-sm",
        variants[variant],
        className,
      )}
      {...rest}
    />
  );
}
