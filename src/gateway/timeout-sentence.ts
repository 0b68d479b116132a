import type { MovingDeadline } from "../upstream/moving-deadline.ts";

/** Why a call was cut off, naming the limit that did it: the call timeout, or the maximum however much progress came. */
export function timeoutSentence(name: string, deadline: MovingDeadline, timeoutMs: number, maxTotalMs: number): string {
  if (deadline.expired() === "total") {
    return `${name} was still working after ${formatDuration(Math.max(timeoutMs, maxTotalMs))}, the longest the gateway lets one call run (CALL_MAX_TOTAL_MS); the call was cancelled.`;
  }
  if (deadline.moved()) return `${name} reported no progress for ${formatDuration(timeoutMs)} and did not answer; the call was cancelled. Try again, or raise the connection's timeout.`;
  return `${name} did not answer within ${formatDuration(timeoutMs)}; the call was cancelled. Try again, or raise the connection's timeout.`;
}

function formatDuration(ms: number): string {
  return ms >= 120_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}
