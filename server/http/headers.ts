/**
 * Security headers of every response. Contract:
 * - SECURITY_HEADERS go on every response (pages, API, static files; next.config.ts `headers()`): no framing
 *   by anyone (X-Frame-Options and CSP frame-ancestors both, for old and new browsers), no MIME sniffing, no
 *   referrer leaving the origin, no cross-origin window handles;
 * - API and static responses get API_CSP: they are never documents, so nothing may run or load from them;
 * - pages get pageCsp(nonce) from proxy.ts, a fresh nonce per request: only scripts carrying it (Next's own,
 *   which it stamps with the nonce it reads from the request's CSP header) run; styles come from the origin.
 * This module is imported by next.config.ts and proxy.ts, so it imports nothing.
 */

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
};

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The CSP of a page rendered with `nonce`. `dev` adds 'unsafe-eval' (React's dev tooling reconstructs stacks
 * with eval; production never needs it) and inline styles (the dev overlay injects them).
 */
export function pageCsp(nonce: string, dev = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' ${dev ? "'unsafe-inline'" : `'nonce-${nonce}'`}`,
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A nonce for one response: 128 random bits, base64. */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

/**
 * Why a request path cannot be routed, or undefined if it can: a segment that is not valid percent-encoded
 * UTF-8 (`%FF`), or one that decodes to NUL. Next would answer those with a bare 500; proxy.ts answers 400.
 */
export function badPathReason(pathname: string): string | undefined {
  for (const segment of pathname.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return `path segment ${JSON.stringify(segment.slice(0, 80))} is not valid percent-encoded UTF-8`;
    }
    if (decoded.includes("\u0000")) return `path segment ${JSON.stringify(segment.slice(0, 80))} contains NUL (%00)`;
  }
  return undefined;
}
