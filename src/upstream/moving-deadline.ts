import { SdkError, SdkErrorCode } from "@modelcontextprotocol/client";

export type MovingDeadline = {
  /** Aborts (with a timeout error) once `quietMs` pass without a move, or `totalMs` in all. */
  signal: AbortSignal;
  /** Progress was heard: the quiet deadline starts again, the total one stays. */
  move(): void;
  /** Milliseconds left before the total deadline. */
  totalRemainingMs(): number;
  /** Which deadline ended the wait, if one did. */
  expired(): "quiet" | "total" | null;
  /** Whether progress moved it at least once. */
  moved(): boolean;
  clear(): void;
};

/**
 * A call's deadline that progress moves: a call reporting progress is working, so it may run past
 * `quietMs` as long as it keeps reporting, up to `totalMs` in all. The time is an argument so that
 * tests need not sleep; the timer only wakes the wait. One timer: the quiet deadline never lies
 * past the total one (a move is capped there), so when it is the total one it ends the wait as
 * such. `follow`: signals that end the call too (a shutdown, the client's cancel); the deadline's
 * signal aborts with their reason, so that a call has one signal, not one combined per source.
 */
export function movingDeadline(quietMs: number, totalMs: number, now: () => number = Date.now, follow: (AbortSignal | undefined)[] = []): MovingDeadline {
  const controller = new AbortController();
  const started = now();
  const totalAt = started + Math.max(quietMs, totalMs);
  let quietAt = started + quietMs;
  let expired: "quiet" | "total" | null = null;
  let moved = false;
  const followed = follow.filter((signal): signal is AbortSignal => signal !== undefined);
  const onFollowed = (event: Event): void => {
    clear();
    if (!controller.signal.aborted) controller.abort((event.target as AbortSignal).reason);
  };
  const end = (which: "quiet" | "total"): void => {
    if (controller.signal.aborted) return;
    expired = which;
    clear();
    controller.abort(new SdkError(SdkErrorCode.RequestTimeout, which === "total" ? "maximum call duration" : "deadline"));
  };
  // Moved up to the total deadline (or never apart from it), the quiet one ends the wait as the total one.
  const onQuiet = (): void => end(quietAt >= totalAt || now() >= totalAt ? "total" : "quiet");
  let quietTimer: ReturnType<typeof setTimeout> | undefined;
  function clear(): void {
    clearTimeout(quietTimer);
    for (const signal of followed) signal.removeEventListener("abort", onFollowed);
  }
  const already = followed.find((signal) => signal.aborted);
  if (already) controller.abort(already.reason);
  else {
    quietTimer = setTimeout(onQuiet, quietMs);
    for (const signal of followed) signal.addEventListener("abort", onFollowed, { once: true });
  }
  return {
    signal: controller.signal,
    move() {
      if (controller.signal.aborted) return;
      moved = true;
      quietAt = Math.min(now() + quietMs, totalAt);
      clearTimeout(quietTimer);
      quietTimer = setTimeout(onQuiet, Math.max(0, quietAt - now()));
    },
    totalRemainingMs: () => Math.max(1, totalAt - now()),
    expired: () => expired,
    moved: () => moved,
    clear,
  };
}
