/**
 * A budget of bytes shared by every answer being read at once. One answer is held to its own cap
 * (ResponseBudget.maxBytes); this bounds them together, so that sixteen oversized answers arriving
 * at once cost what the budget says, not sixteen caps. An answer that would take the total past it
 * is cut, never waited for: answers that each wait for another to finish could wait forever.
 */
export class BytesInFlight {
  private held = 0;

  constructor(readonly limit: number) {}

  get inFlight(): number {
    return this.held;
  }

  /** Takes `bytes` if they fit; false (and nothing taken) when they would pass the limit. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}

/**
 * Bytes of a cut answer are garbage at once, but the engine counts large buffers as outside its
 * heap and may leave them for a long while: a stream of oversized answers then holds many caps'
 * worth. After a cut, one collection is asked for, at most five times a second.
 */
let collectAfter = 0;
export function collectSoon(now: number = Date.now()): void {
  if (now < collectAfter) return;
  collectAfter = now + 200;
  setTimeout(() => Bun.gc(true), 0).unref();
}
