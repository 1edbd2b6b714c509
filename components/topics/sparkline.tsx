// An inline SVG line of a short series (messages per minute, oldest first). Purely presentational:
// the numbers are also in the aria-label, so nothing is lost to screen readers.

export function Sparkline({
  values,
  width = 120,
  height = 28,
  label,
}: {
  values: number[];
  width?: number;
  height?: number;
  label: string;
}) {
  const points = values.length > 1 ? values : [values[0] ?? 0, values[0] ?? 0];
  const max = Math.max(1, ...points);
  const step = width / (points.length - 1);
  const pad = 2;
  const y = (v: number) => height - pad - (v / max) * (height - pad * 2);
  const line = points.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const area = `0,${height} ${line} ${width},${height}`;
  const peak = Math.max(0, ...values);
  const last = values.at(-1) ?? 0;
  return (
    <svg
      role="img"
      aria-label={`${label}: last ${last}/min, peak ${peak}/min over ${values.length} minutes`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      className="text-accent"
    >
      <polygon points={area} fill="currentColor" opacity={0.12} />
      <polyline points={line} fill="none" stroke="currentColor" strokeWidth={1.5} strokeLinejoin="round" />
    </svg>
  );
}
