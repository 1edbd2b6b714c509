"use client";

import { useState } from "react";
import { api } from "../api/client";
import { Button } from "../ui/button";

/** Ends the session (POST /api/logout) and goes to /login, whatever the server answered. */
export function LogoutButton() {
  const [busy, setBusy] = useState(false);
  async function logout() {
    setBusy(true);
    try {
      await api.logout();
    } catch {
      // the cookie may already be gone; the login page is the right place either way
    }
    window.location.assign("/login");
  }
  return (
    <Button size="sm" variant="ghost" onClick={logout} disabled={busy}>
      Sign out
    </Button>
  );
}
