/** ISO-like UTC time, stable across server locales. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

/** "3 min ago" (or "in 2 min" for a time ahead, such as a paused connection's next retry). */
export function formatRelative(ms: number, now: number): string {
  const seconds = Math.round((now - ms) / 1000);
  const ahead = seconds < 0;
  const s = Math.abs(seconds);
  const amount = s < 45 ? null : s < 90 * 60 ? `${Math.max(1, Math.round(s / 60))} min` : s < 36 * 3600 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`;
  if (amount === null) return ahead ? "in a few seconds" : "just now";
  return ahead ? `in ${amount}` : `${amount} ago`;
}
