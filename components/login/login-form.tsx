"use client";

import { useState, type FormEvent } from "react";
import { api } from "../api/client";
import { errorMessage } from "../api/errors";
import { Button } from "../ui/button";
import { TextField } from "../ui/field";

/**
 * Only same-site paths are followed after login ("/x", never "//host" or "https://…"),
 * so a crafted ?next= cannot send the operator elsewhere.
 */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}

/** POST /api/login { token }; on 204 the server has set the session cookie and we go to `next`. */
export function LoginForm({ next }: { next?: string }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.login(token.trim());
      window.location.assign(safeNext(next));
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-4" aria-describedby={error ? "login-error" : undefined}>
      <TextField
        label="Admin token"
        name="token"
        type="password"
        autoComplete="current-password"
        required
        autoFocus
        value={token}
        onChange={(e) => setToken(e.target.value)}
        hint="The WHISPER_ADMIN_TOKEN of this server. Without one configured, the server printed a generated token at start."
      />
      {error && (
        <p id="login-error" role="alert" className="rounded-md bg-danger-soft px-3 py-2 text-sm text-danger">
          {error}
        </p>
      )}
      <Button type="submit" variant="primary" disabled={busy || token.trim() === ""}>
        {busy ? "Signing in…" : "Sign in"}
      </Button>
    </form>
  );
}
