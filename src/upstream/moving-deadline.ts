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
 * tests need not sleep; the timers only wake the wait.
 */
export function movingDeadline(quietMs: number, totalMs: number, now: () => number = Date.now): MovingDeadline {
  const controller = new AbortController();
  const started = now();
  const totalAt = started + Math.max(quietMs, totalMs);
  let quietAt = started + quietMs;
  let expired: "quiet" | "total" | null = null;
  let moved = false;
  const end = (which: "quiet" | "total"): void => {
    if (controller.signal.aborted) return;
    expired = which;
    clearTimeout(quietTimer);
    clearTimeout(totalTimer);
    controller.abort(new SdkError(SdkErrorCode.RequestTimeout, which === "total" ? "maximum call duration" : "deadline"));
  };
  // Moved up to the total deadline, the quiet one ends the wait as the total one.
  const onQuiet = (): void => end(now() >= totalAt ? "total" : "quiet");
  let quietTimer = setTimeout(onQuiet, quietMs);
  const totalTimer = setTimeout(() => end("total"), totalAt - started);
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
    clear() {
      clearTimeout(quietTimer);
      clearTimeout(totalTimer);
    },
  };
}
