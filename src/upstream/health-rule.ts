/**
 * When a connection is paused. Two signs of an outage, either enough:
 *   - a run of failures that lasts: `pauseAfterFailures` in a row, the first at least
 *     `pauseFailureSpanMs` before the last. With many callers, five failures in a row happen
 *     within milliseconds of one bad second; an outage is still failing seconds later.
 *   - a failure rate: at least `pauseFailurePercent` % of at least `healthMinCalls` calls in the
 *     last `healthWindowMs` failed (Envoy's outlier detection pauses at 85 % of 50 calls). An
 *     upstream that serves half its calls stays in use: pausing it would serve none.
 * Calls only: the background checks of a connection in Error are seconds apart by design, so
 * they are judged by the run alone (see health.ts).
 */
export type HealthRule = {
  pauseAfterFailures: number;
  pauseFailureSpanMs: number;
  pauseFailurePercent: number;
  healthMinCalls: number;
  healthWindowMs: number;
};

/** What this process saw of a connection's recent calls. */
export type RecentCalls = {
  /** Calls that ended within the window, and how many of them failed. */
  calls: number;
  failures: number;
  /** Failures since the last success, and when the first of them happened (null: none). */
  inARow: number;
  failingSince: number | null;
};

export function shouldPause(rule: HealthRule, recent: RecentCalls, now: number): boolean {
  const lasting = recent.inARow >= rule.pauseAfterFailures && recent.failingSince !== null && now - recent.failingSince >= rule.pauseFailureSpanMs;
  const mostlyFailing = recent.calls >= rule.healthMinCalls && recent.failures * 100 >= rule.pauseFailurePercent * recent.calls;
  return lasting || mostlyFailing;
}

const BUCKETS = 30;
type Track = { starts: number[]; calls: number[]; failures: number[]; inARow: number; failingSince: number | null };

/**
 * The calls of each connection over the window, in BUCKETS slices (memory per connection is fixed
 * whatever the traffic). Each replica judges the calls it made; the verdict goes to the shared row.
 */
export class HealthWindow {
  private readonly tracks = new Map<string, Track>();
  private readonly sliceMs: number;

  constructor(readonly windowMs: number) {
    this.sliceMs = Math.max(1, Math.ceil(windowMs / BUCKETS));
  }

  /** Records one call's outcome at `now` and returns what the window holds after it. */
  record(connectionId: string, ok: boolean, now: number): RecentCalls {
    let track = this.tracks.get(connectionId);
    if (!track) {
      track = { starts: new Array(BUCKETS).fill(-1), calls: new Array(BUCKETS).fill(0), failures: new Array(BUCKETS).fill(0), inARow: 0, failingSince: null };
      this.tracks.set(connectionId, track);
    }
    const slice = Math.floor(now / this.sliceMs);
    const at = slice % BUCKETS;
    if (track.starts[at] !== slice) {
      track.starts[at] = slice;
      track.calls[at] = 0;
      track.failures[at] = 0;
    }
    (track.calls[at] as number)++;
    if (ok) {
      track.inARow = 0;
      track.failingSince = null;
    } else {
      (track.failures[at] as number)++;
      if (track.inARow === 0) track.failingSince = now;
      track.inARow++;
    }
    return this.recent(track, slice);
  }

  forget(connectionId: string): void {
    this.tracks.delete(connectionId);
  }

  private recent(track: Track, slice: number): RecentCalls {
    let calls = 0;
    let failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if ((track.starts[i] as number) > slice - BUCKETS) {
        calls += track.calls[i] as number;
        failures += track.failures[i] as number;
      }
    }
    return { calls, failures, inARow: track.inARow, failingSince: track.failingSince };
  }
}
