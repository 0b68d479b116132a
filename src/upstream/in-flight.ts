export type CallSlot = {
  /** Aborts when the gateway shuts down and the grace period is over. */
  signal: AbortSignal;
  end(): void;
};

/**
 * Why a call got no slot: the gateway is stopping, the client gave up while the call waited, the
 * connection's queue was full, or the call waited in it as long as a call may.
 */
export type SlotRefusal = { refused: "stopping" | "cancelled" | "queue_full" | "queue_timeout"; waitedMs: number };

export type QueueLimits = {
  /** Calls one connection may have in flight; more wait in its queue. */
  inFlight: number;
  /** Calls that may wait in one connection's queue; one more is refused at once. */
  queued: number;
  /** The longest a call waits in the queue before it is refused. */
  waitMs: number;
};

/**
 * Ordinary load queues; only a pile no caller would wait for is refused. The count bound is set by
 * memory: each call held costs the gateway about 25–50 KiB of RSS (its request, the per-request
 * server, the waiter; bench/queue-depth.ts), so 2,048 waiting calls are 50–100 MiB on one connection,
 * and a burst of 1,024 callers on one connection all wait their turn. The time bound is what ends
 * a wait in practice: a call never waits more than 10 s for its place (then it is refused, unsent).
 */
export const DEFAULT_QUEUE_LIMITS: QueueLimits = { inFlight: 32, queued: 2048, waitMs: 10_000 };

/** The reason a shutdown gives to the calls it cancels. */
export class ShuttingDown extends Error {
  constructor() {
    super("the gateway is shutting down");
    this.name = "ShuttingDown";
  }
}

type Waiter = { grant(): void; refuse(refusal: SlotRefusal): void };
type Lane = { running: number; queue: Waiter[] };

/**
 * The calls in flight: at most `inFlight` per connection, the rest waiting first come, first
 * served in a bounded queue (as Envoy and HAProxy queue before they refuse), so that a burst of
 * callers is served rather than refused, while a hung upstream still cannot gather an unbounded
 * pile of requests and sockets. Also a handle on every call, so that a shutdown can let them
 * finish, then cancel the rest. Each connection has its own lane: one's queue never delays another.
 */
export class InFlightCalls {
  private readonly lanes = new Map<string, Lane>();
  private readonly active = new Set<AbortController>();
  private readonly idleWaiters = new Set<() => void>();
  private stopping = false;

  constructor(readonly limits: QueueLimits) {}

  /**
   * A slot for a call to `connectionId` (null: a native tool, not counted against any connection),
   * at once when the connection has room, else after waiting in its queue. `signal`: the client
   * gave up, and the call leaves the queue at once.
   */
  async acquire(connectionId: string | null, options: { signal?: AbortSignal; now?: () => number } = {}): Promise<CallSlot | SlotRefusal> {
    if (this.stopping) return { refused: "stopping", waitedMs: 0 };
    if (connectionId === null) return this.open(null);
    const lane = this.laneFor(connectionId);
    if (lane.running < this.limits.inFlight && lane.queue.length === 0) {
      lane.running++;
      return this.open(connectionId);
    }
    if (lane.queue.length >= this.limits.queued) return { refused: "queue_full", waitedMs: 0 };
    if (options.signal?.aborted) return { refused: "cancelled", waitedMs: 0 };
    const now = options.now ?? Date.now;
    const started = now();
    const outcome = await new Promise<SlotRefusal | null>((resolve) => {
      const leave = (refusal: SlotRefusal | null): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        const at = lane.queue.indexOf(waiter);
        if (at >= 0) lane.queue.splice(at, 1);
        resolve(refusal);
      };
      const waiter: Waiter = { grant: () => leave(null), refuse: (refusal) => leave(refusal) };
      const onAbort = (): void => leave({ refused: "cancelled", waitedMs: now() - started });
      const timer = setTimeout(() => leave({ refused: "queue_timeout", waitedMs: now() - started }), this.limits.waitMs);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      lane.queue.push(waiter);
    });
    if (outcome) {
      this.dropIfIdle(connectionId, lane);
      return outcome;
    }
    // `grant` already counted this call as running (see release).
    return this.open(connectionId);
  }

  /** Calls waiting in the connection's queue right now. */
  queued(connectionId: string): number {
    return this.lanes.get(connectionId)?.queue.length ?? 0;
  }

  get size(): number {
    return this.active.size;
  }

  /** Each connection with calls running or waiting (for the metrics, read at scrape time). */
  *lanesNow(): Iterable<{ connectionId: string; running: number; queued: number }> {
    for (const [connectionId, lane] of this.lanes) yield { connectionId, running: lane.running, queued: lane.queue.length };
  }

  private laneFor(connectionId: string): Lane {
    let lane = this.lanes.get(connectionId);
    if (!lane) {
      lane = { running: 0, queue: [] };
      this.lanes.set(connectionId, lane);
    }
    return lane;
  }

  private open(connectionId: string | null): CallSlot {
    const controller = new AbortController();
    this.active.add(controller);
    let ended = false;
    return {
      signal: controller.signal,
      end: () => {
        if (ended) return;
        ended = true;
        this.active.delete(controller);
        if (connectionId !== null) this.release(connectionId);
        if (this.active.size === 0) for (const wake of this.idleWaiters) wake();
      },
    };
  }

  /** A call ended: its place goes to the first call in the queue, still counted as running. */
  private release(connectionId: string): void {
    const lane = this.lanes.get(connectionId);
    if (!lane) return;
    const next = lane.queue[0];
    if (next && !this.stopping) next.grant();
    else lane.running--;
    this.dropIfIdle(connectionId, lane);
  }

  private dropIfIdle(connectionId: string, lane: Lane): void {
    if (lane.running === 0 && lane.queue.length === 0 && this.lanes.get(connectionId) === lane) this.lanes.delete(connectionId);
  }

  /** Refuses new calls (and those queued), waits up to `graceMs` for the running ones, then cancels what is left. */
  async drain(graceMs: number): Promise<{ finished: number; cancelled: number }> {
    this.stopping = true;
    for (const lane of this.lanes.values()) for (const waiter of [...lane.queue]) waiter.refuse({ refused: "stopping", waitedMs: 0 });
    const before = this.active.size;
    await this.whenIdle(graceMs);
    const cancelled = this.active.size;
    for (const controller of this.active) controller.abort(new ShuttingDown());
    // Cancelled calls answer at once with a result saying so; give them a moment to be sent.
    if (cancelled > 0) await this.whenIdle(2000);
    return { finished: before - cancelled, cancelled };
  }

  private whenIdle(timeoutMs: number): Promise<void> {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.idleWaiters.add(done);
    });
  }
}
