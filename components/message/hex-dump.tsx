// Bytes as a classic hex dump: offset, 16 bytes in hex, and their printable ASCII (others as ".").
// Output is text nodes only.

export function decodeBase64(value: string): Uint8Array | null {
  try {
    const binary = atob(value);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

export function hexLines(bytes: Uint8Array, width = 16): string[] {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += width) {
    const row = bytes.subarray(offset, offset + width);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ").padEnd(width * 3 - 1, " ");
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex}  ${ascii}`);
  }
  return lines;
}

/** At most `maxBytes` are shown; the rest is counted. */
export function HexDump({ bytes, maxBytes = 64 * 1024 }: { bytes: Uint8Array; maxBytes?: number }) {
  const shown = bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes;
  return (
    <>
      <pre data-testid="hex-dump" className="overflow-x-auto font-mono text-xs leading-5">
        {hexLines(shown).join("\n")}
      </pre>
      {bytes.length > maxBytes && (
        <p className="mt-2 text-xs text-muted">
          Showing the first {maxBytes} of {bytes.length} bytes.
        </p>
      )}
    </>
  );
}
