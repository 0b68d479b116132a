/**
 * HTTP requests open to upstreams, per connection and in all: each holds a socket until its answer
 * is read or it is aborted. Bun queues outbound requests past its own limit, for every host alike,
 * so without these bounds one hung upstream could take every socket and stall the healthy ones.
 */
export class OpenRequests {
  private readonly perConnection = new Map<string, number>();
  private total = 0;

  constructor(readonly limits: { perConnection: number; total: number }) {}

  /** A release function, or the bound that is full. Release exactly once (it ignores a second call). */
  open(connectionId: string): (() => void) | { full: "connection" | "total" } {
    const count = this.perConnection.get(connectionId) ?? 0;
    if (count >= this.limits.perConnection) return { full: "connection" };
    if (this.total >= this.limits.total) return { full: "total" };
    this.perConnection.set(connectionId, count + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perConnection.get(connectionId) ?? 1) - 1;
      if (left > 0) this.perConnection.set(connectionId, left);
      else this.perConnection.delete(connectionId);
    };
  }

  /** Requests open per connection id (for the metrics). */
  byConnection(): Iterable<[string, number]> {
    return this.perConnection.entries();
  }

  count(connectionId?: string): number {
    return connectionId === undefined ? this.total : (this.perConnection.get(connectionId) ?? 0);
  }
}
