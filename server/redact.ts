/**
 * The one redaction of credentials in URLs, for everything that leaves the server (API answers, problem
 * details, health, the audit log, the start banner). Contract:
 * - redactUrl(url): the user-info part is replaced whole by `***` (a user name alone can be the secret: a
 *   NATS token URL is `nats://TOKEN@host`; `user:password@` becomes `***@` too), and the value of every
 *   query parameter whose name looks secret (token, secret, password, key, auth, signature, credential, …)
 *   becomes `***`; other parts are kept. Text that does not parse as a URL gets the same treatment by pattern;
 * - redactText(text): every URL-looking substring of free text (an error message) redacted as above.
 * Idempotent: redacting twice changes nothing more.
 */

const MASK = "***";

/** Query parameter names whose values are secrets (matched case-insensitively, anywhere in the name). */
const SECRET_PARAM = /token|secret|passw(or)?d|^pass$|pwd|key|auth|sig(nature)?$|credential|creds|session|cookie|jwt|seed|private/i;

export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactByPattern(url);
  }
  let changed = false;
  if (parsed.username !== "" || parsed.password !== "") {
    parsed.username = MASK;
    parsed.password = "";
    changed = true;
  }
  for (const name of new Set(parsed.searchParams.keys())) {
    if (SECRET_PARAM.test(name) && parsed.searchParams.getAll(name).some((v) => v !== MASK)) {
      parsed.searchParams.set(name, MASK);
      changed = true;
    }
  }
  // Opaque URLs (eventbus:orders) and special characters keep their original spelling when nothing changed.
  return changed ? decodeMask(parsed.href) : url;
}

/** URLSearchParams percent-encodes the mask; shown as written. */
function decodeMask(href: string): string {
  return href.replaceAll("%2A%2A%2A", MASK);
}

/** Credentials in text that is not one URL: `scheme://user:pass@` and `secret=value` pairs. */
function redactByPattern(text: string): string {
  return text
    .replace(/(:\/\/)[^\s/?#@]+@/g, `$1${MASK}@`)
    .replace(/([?&;]([^\s=&#;]+)=)([^\s&#;]*)/g, (whole, head: string, name: string, value: string) =>
      SECRET_PARAM.test(name) && value !== "" ? `${head}${MASK}` : whole,
    );
}

/** Free text with every URL in it redacted. */
export function redactText(text: string): string {
  return redactByPattern(text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url)));
}
