/** A call the gateway keeps running while its client is away answering a question. */
export type Holdable = { readonly id: string; cancel(reason: string): void };

export type HoldLimits = {
  /** Calls one caller (key or grant) may have waiting for their answers at once. */
  perHolder: number;
  total: number;
  /** How long a call waits for its client to come back with the answers. */
  waitMs: number;
};

export const DEFAULT_HOLD_LIMITS: HoldLimits = { perHolder: 16, total: 1024, waitMs: 120_000 };

/**
 * Calls held open between a 2026-07-28 client's rounds: the client got an `input_required`
 * result and will retry with its answers, while the upstream call (a 2025 server that asked
 * mid-call) stays open. Each is bounded in time (cancelled if the client does not come back) and
 * in number (per caller and in all), so clients that never answer cannot pile calls up. Only the
 * caller that was asked can take a call back.
 */
export class HeldCalls {
  private readonly held = new Map<string, { call: Holdable; holder: string; timer: ReturnType<typeof setTimeout> }>();

  constructor(readonly limits: HoldLimits = DEFAULT_HOLD_LIMITS) {}

  /** Holds `call` until taken back or timed out; false when the caller or the gateway holds the most it may. */
  hold(call: Holdable, holder: string): boolean {
    const existing = this.held.get(call.id);
    if (existing) clearTimeout(existing.timer);
    else {
      if (this.held.size >= this.limits.total) return false;
      let mine = 0;
      for (const entry of this.held.values()) if (entry.holder === holder) mine++;
      if (mine >= this.limits.perHolder) return false;
    }
    const timer = setTimeout(() => {
      this.held.delete(call.id);
      call.cancel(`the client did not answer within ${Math.round(this.limits.waitMs / 1000)} s`);
    }, this.limits.waitMs);
    timer.unref?.();
    this.held.set(call.id, { call, holder, timer });
    return true;
  }

  /** The held call, if `holder` is the one it waits for; it stays held until released. */
  take(id: string, holder: string): Holdable | null {
    const entry = this.held.get(id);
    if (!entry || entry.holder !== holder) return null;
    clearTimeout(entry.timer);
    return entry.call;
  }

  release(id: string): void {
    const entry = this.held.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.held.delete(id);
  }

  get size(): number {
    return this.held.size;
  }

  cancelAll(reason: string): void {
    for (const entry of this.held.values()) {
      clearTimeout(entry.timer);
      entry.call.cancel(reason);
    }
    this.held.clear();
  }
}
