// Display formatting. Pure functions; the ISO value is always kept available for a title attribute.

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });

/** "12 s ago", "3 min ago", … relative to `now` (ms since epoch). */
export function timeAgo(iso: string, now: number = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((then - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, "second");
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), "hour");
  return relative.format(Math.round(seconds / 86400), "day");
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** Local date and time with seconds; the raw string when it does not parse. */
export function formatDateTime(iso: string): string {
  const then = Date.parse(iso);
  return Number.isNaN(then) ? iso : dateTime.format(then);
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

export function formatClock(iso: string): string {
  const then = Date.parse(iso);
  return Number.isNaN(then) ? iso : clock.format(then);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const count = new Intl.NumberFormat();

export function formatCount(n: number): string {
  return count.format(n);
}

/** Messages per minute with one decimal below 10. */
export function formatRate(perMinute: number): string {
  return perMinute < 10 && perMinute % 1 !== 0 ? perMinute.toFixed(1) : count.format(Math.round(perMinute));
}
