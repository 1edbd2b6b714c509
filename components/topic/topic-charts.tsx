"use client";

import { useTopicSeries } from "../api/hooks";
import type { TopicSeries } from "../api/types";
import { formatClock, formatCount, formatDateTime } from "../ui/format";
import { ErrorState } from "../ui/states";

// The topic's activity over the history view's range (GET /api/topics/{topic}/series): throughput (recorded vs
// published through this dashboard), failed publishes, and the recorder's lag. Small SVG line/bar charts; each
// has a caption with its figures in words, so nothing depends on reading the picture.

const WIDTH = 300;
const HEIGHT = 56;
/** Without a range start (everything), the charts show the last day (what the per-minute activity keeps). */
const DEFAULT_SPAN_MS = 24 * 3_600_000;

type Point = TopicSeries["points"][number];

function path(values: number[], max: number): string {
  if (values.length === 0) return "";
  const step = values.length > 1 ? WIDTH / (values.length - 1) : 0;
  return values.map((v, i) => `${(i * step).toFixed(1)},${(HEIGHT - 2 - (max > 0 ? (v / max) * (HEIGHT - 4) : 0)).toFixed(1)}`).join(" ");
}

function Chart({ title, caption, series, children }: { title: string; caption: string; series: TopicSeries; children: React.ReactNode }) {
  const first = series.points[0];
  const last = series.points.at(-1);
  // Over half a day the ends are on different days: show the dates too.
  const label = Date.parse(series.to) - Date.parse(series.from) > 12 * 3_600_000 ? formatDateTime : formatClock;
  return (
    <figure className="flex min-w-0 flex-col gap-1 rounded-md border border-line bg-surface p-2">
      <figcaption className="flex flex-col text-xs">
        <span className="font-medium">{title}</span>
        <span className="text-muted">{caption}</span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" className="h-14 w-full" role="img" aria-label={`${title}: ${caption}`}>
        <line x1="0" y1={HEIGHT - 1} x2={WIDTH} y2={HEIGHT - 1} stroke="var(--color-line)" strokeWidth="1" vectorEffect="non-scaling-stroke" />
        {children}
      </svg>
      {first && last && (
        <div className="flex justify-between text-[10px] text-muted tabular-nums">
          <span>{label(first.at)}</span>
          <span>{label(last.at)}</span>
        </div>
      )}
    </figure>
  );
}

function Line({ values, max, color, dashed = false }: { values: number[]; max: number; color: string; dashed?: boolean }) {
  return (
    <polyline
      points={path(values, max)}
      fill="none"
      stroke={color}
      strokeWidth="1.5"
      strokeDasharray={dashed ? "4 3" : undefined}
      vectorEffect="non-scaling-stroke"
    />
  );
}

function sum(points: Point[], key: keyof Omit<Point, "at">): number {
  return points.reduce((n, p) => n + p[key], 0);
}

export function TopicCharts({ topic, from, to, now }: { topic: string; from: string | undefined; to: string | undefined; now: number }) {
  // Everything (no start): the last day before the range's end, or before the moment the view was opened.
  const start = from ?? new Date((to ? Date.parse(to) : now) - DEFAULT_SPAN_MS).toISOString();
  const series = useTopicSeries(topic, start, to);
  if (series.isError) return <ErrorState title="Could not load the charts" error={series.error} onRetry={() => series.refetch()} />;
  const data = series.data;
  if (!data) return <div className="h-32 rounded-md border border-line bg-subtle" aria-hidden="true" />;
  const points = data.points;
  const perStep = data.stepSeconds === 60 ? "per minute" : `per ${data.stepSeconds / 60} minutes`;
  const recorded = points.map((p) => p.recorded);
  const published = points.map((p) => p.published);
  const failed = points.map((p) => p.failed);
  const behind = points.map((p) => p.behindMessages);
  const throughputMax = Math.max(1, ...recorded, ...published);
  const totalPublished = sum(points, "published");
  const totalFailed = sum(points, "failed");
  const failedMax = Math.max(1, ...failed);
  const lagMax = Math.max(...behind, 0);
  const lagSecondsMax = Math.max(...points.map((p) => p.behindSeconds), 0);
  const barWidth = points.length > 0 ? WIDTH / points.length : WIDTH;
  return (
    <div className="grid gap-2 sm:grid-cols-3" aria-label={`Activity from ${formatDateTime(data.from)} to ${formatDateTime(data.to)}`} role="group">
      <Chart
        title="Throughput"
        caption={`${formatCount(sum(points, "recorded"))} recorded · ${formatCount(totalPublished)} published here (${perStep})`}
        series={data}
      >
        <Line values={recorded} max={throughputMax} color="var(--color-accent)" />
        <Line values={published} max={throughputMax} color="var(--color-ok)" dashed />
      </Chart>
      <Chart
        title="Failed publishes"
        caption={
          totalFailed === 0
            ? "none"
            : `${formatCount(totalFailed)} failed (${((100 * totalFailed) / Math.max(1, totalFailed + totalPublished)).toFixed(1)}% of publishes)`
        }
        series={data}
      >
        {failed.map((v, i) =>
          v > 0 ? (
            <rect key={i} x={i * barWidth} width={Math.max(1, barWidth - 0.5)} y={HEIGHT - 2 - (v / failedMax) * (HEIGHT - 4)} height={(v / failedMax) * (HEIGHT - 4)} fill="var(--color-danger)" />
          ) : null,
        )}
      </Chart>
      <Chart
        title="Recorder lag"
        caption={lagMax === 0 ? "kept up (0 behind)" : `at most ${formatCount(lagMax)} messages / ${formatCount(lagSecondsMax)} s behind`}
        series={data}
      >
        <Line values={behind} max={Math.max(1, lagMax)} color="var(--color-warn)" />
      </Chart>
    </div>
  );
}
