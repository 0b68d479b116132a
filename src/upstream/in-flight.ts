export type CallSlot = {
  /** Aborts when the gateway shuts down and the grace period is over. */
  signal: AbortSignal;
  end(): void;
};

export type SlotRefusal = { refused: "busy" | "stopping" };

/** The reason a shutdown gives to the calls it cancels. */
export class ShuttingDown extends Error {
  constructor() {
    super("the gateway is shutting down");
    this.name = "ShuttingDown";
  }
}

/**
 * The calls in flight: how many wait on each connection (beyond a cap a call is refused at once,
 * so a hung upstream cannot gather an unbounded pile of requests and sockets), and a handle on
 * every one so that a shutdown can let them finish, then cancel the rest.
 */
export class InFlightCalls {
  private readonly perConnection = new Map<string, number>();
  private readonly active = new Set<AbortController>();
  private readonly idleWaiters = new Set<() => void>();
  private stopping = false;

  constructor(private readonly limitPerConnection: number) {}

  /** `connectionId` null: a native tool, not counted against any connection. */
  begin(connectionId: string | null): CallSlot | SlotRefusal {
    if (this.stopping) return { refused: "stopping" };
    const count = connectionId === null ? 0 : (this.perConnection.get(connectionId) ?? 0);
    if (connectionId !== null && count >= this.limitPerConnection) return { refused: "busy" };
    if (connectionId !== null) this.perConnection.set(connectionId, count + 1);
    const controller = new AbortController();
    this.active.add(controller);
    let ended = false;
    return {
      signal: controller.signal,
      end: () => {
        if (ended) return;
        ended = true;
        this.active.delete(controller);
        if (connectionId !== null) {
          const left = (this.perConnection.get(connectionId) ?? 1) - 1;
          if (left > 0) this.perConnection.set(connectionId, left);
          else this.perConnection.delete(connectionId);
        }
        if (this.active.size === 0) for (const wake of this.idleWaiters) wake();
      },
    };
  }

  get size(): number {
    return this.active.size;
  }

  get limit(): number {
    return this.limitPerConnection;
  }

  /** Refuses new calls, waits up to `graceMs` for the running ones, then cancels what is left. */
  async drain(graceMs: number): Promise<{ finished: number; cancelled: number }> {
    this.stopping = true;
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
