import { httpDefaults } from "./defaults";
import type { AppError } from "../errors";
import { badRequest, problem } from "./problem";

/**
 * Request bodies, read defensively. Contract:
 * - readLimited() reads the body stream chunk by chunk and stops at the first byte past `limit`: memory
 *   never holds more than `limit` plus one chunk, whatever Content-Length says or omits (chunked uploads);
 * - decodeUtf8() refuses invalid UTF-8 (400) instead of silently replacing it with U+FFFD;
 * - parseJsonText() refuses nesting deeper than httpDefaults.maxJsonDepth before JSON.parse sees the text,
 *   so a deeply nested body is a 400, never a stack overflow further down.
 */

/** The 413 problem for a body over `limit` bytes. */
export function tooLarge(limit: number, declared?: number): AppError {
  const size = declared === undefined ? "the request body" : `a request body of ${declared} bytes`;
  return problem("too_large",
    `${size} exceeds the limit of ${limit} bytes`,
  );
}

/**
 * Reads the whole body, or throws a 413 problem as soon as more than `limit` bytes arrived (or were declared).
 * The stream is never cancelled (that would destroy the socket before the 413 is sent): the server hook drops
 * the rest of the body after the answer (lingerOnUnreadBody, server/whisper/drivers/http/linger.ts).
 */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declaredHeader = request.headers.get("content-length");
  if (declaredHeader !== null) {
    const declared = Number(declaredHeader);
    if (!/^\d+$/.test(declaredHeader.trim())) throw badRequest("Content-Length is not a number");
    if (declared > limit) throw tooLarge(limit, declared);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read().catch((cause: unknown) => {
        throw problem("bad_request", "the request body ended before it was complete (connection closed or aborted)", {
          cause,
        });
      });
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw tooLarge(limit);
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The body as text; invalid UTF-8 is a 400 naming where it was found. */
export function decodeUtf8(bytes: Uint8Array, what = "body"): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw badRequest(`${what} is not valid UTF-8`, [{ path: what, message: "is not valid UTF-8" }]);
  }
}

/**
 * Nesting depth of JSON text (arrays and objects), counted without recursion; strings are skipped so
 * brackets inside them do not count. Stops counting as soon as `max` is exceeded.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** JSON.parse with the depth limit; a syntax error or too deep a structure is a 400. */
export function parseJsonText(text: string, what = "body", maxDepth: number = httpDefaults.maxJsonDepth): unknown {
  if (jsonDepthExceeds(text, maxDepth)) {
    throw badRequest(`${what} nests arrays/objects deeper than ${maxDepth} levels`, [
      { path: what, message: `nested deeper than ${maxDepth} levels` },
    ]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`${what} is not valid JSON: ${(error as Error).message}`, [{ path: what, message: "is not valid JSON" }]);
  }
}
