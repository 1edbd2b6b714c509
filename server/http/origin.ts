import type { AppError } from "../errors";
import { problem } from "./problem";

/**
 * Cross-site request forgery defence for browser requests that change state. SameSite=Strict does not stop a
 * page on another port of the same host (same site, other origin), so the origin itself is checked.
 * Contract, for a request that must come from the dashboard's own pages:
 * - with an Origin header: allowed when it is the request's own origin (scheme http/https and the Host header)
 *   or one of `trusted` (WHISPER_TRUSTED_ORIGINS); "null" and anything else is a 403;
 * - without Origin: allowed only when Sec-Fetch-Site says same-origin (or none: typed by the user);
 * - with neither: `allowBare` decides: true for requests that carry no ambient credential (a login from a
 *   script), false for cookie-authenticated ones (every browser sends one of the two on such a request).
 */
export function checkSameOrigin(request: Request, trusted: readonly string[], allowBare: boolean): void {
  const origin = request.headers.get("origin");
  if (origin !== null) {
    if (origin !== "null" && (isOwnOrigin(origin, request.headers.get("host")) || trusted.includes(origin))) return;
    throw forbidden(`a request from origin ${origin.slice(0, 200)} may not change anything here (set WHISPER_TRUSTED_ORIGINS for a reverse proxy's origin)`);
  }
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) {
    if (site === "same-origin" || site === "none") return;
    throw forbidden(`a ${site.slice(0, 40)} request may not change anything here`);
  }
  if (!allowBare) {
    throw forbidden("a cookie-authenticated change needs an Origin or Sec-Fetch-Site header (send a bearer token from scripts)");
  }
}

function isOwnOrigin(origin: string, host: string | null): boolean {
  if (host === null) return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}

function forbidden(detail: string): AppError {
  return problem("cross_origin", detail);
}
