// An inline SVG line of messages per minute, oldest first, as TopicSummary.sparkline gives them: the last
// value is the current minute, still counting. It is left out of the line, which would otherwise always end
// in a drop that is not there; the line ends at the last complete minute. Purely presentational: the figures
// are also in the aria-label, so nothing is lost to screen readers.

/** The minutes the line draws: every value but the last (the current minute, still counting). */
export function completeMinutes(values: readonly number[]): number[] {
  return values.slice(0, -1);
}

export function Sparkline({
  values,
  width = 120,
  height = 28,
  label,
}: {
  /** Messages per minute, oldest first, the current (unfinished) minute last. */
  values: number[];
  width?: number;
  height?: number;
  label: string;
}) {
  const complete = completeMinutes(values);
  const points = complete.length > 1 ? complete : [complete[0] ?? 0, complete[0] ?? 0];
  const max = Math.max(1, ...points);
  const step = width / (points.length - 1);
  const pad = 2;
  const y = (v: number) => height - pad - (v / max) * (height - pad * 2);
  const line = points.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const area = `0,${height} ${line} ${width},${height}`;
  const peak = Math.max(0, ...complete);
  const last = complete.at(-1) ?? 0;
  const current = values.at(-1) ?? 0;
  return (
    <svg
      role="img"
      aria-label={`${label}: last full minute ${last}/min, peak ${peak}/min over ${complete.length} minutes; ${current} so far this minute`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      className="block text-accent"
    >
      <polygon points={area} fill="currentColor" opacity={0.12} />
      <polyline points={line} fill="none" stroke="currentColor" strokeWidth={1.5} strokeLinejoin="round" />
    </svg>
  );
}
