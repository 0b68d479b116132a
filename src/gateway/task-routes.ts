/**
 * Which upstream task a client's task id stands for. A client is given an id of the gateway's own
 * (random), never the upstream's: two upstreams may number their tasks alike, and an id must not
 * say which connection or whose credential it belongs to. Each route belongs to the caller that
 * created the task — its workspace and key (or token) — so no other caller can read, list or
 * cancel it, even on a connection whose upstream session the gateway shares between callers.
 * Held in memory, bounded and expiring: a task outlives its route only when it outlives its ttl.
 */
export type TaskRoute = {
  workspaceId: string;
  /** The key or token that created it (open-limits' holder key). */
  holder: string;
  connectionId: string;
  /** The member whose own credential the task runs under, on a per-member connection. */
  memberId: string | null;
  upstreamTaskId: string;
  expiresAt: number;
};

/** Routes held at once; past it the oldest is forgotten. */
export const MAX_TASK_ROUTES = 10_000;
/** A task without a ttl is routed for an hour, none for longer than a day. */
export const DEFAULT_TASK_ROUTE_MS = 60 * 60_000;
export const MAX_TASK_ROUTE_MS = 24 * 60 * 60_000;

export type Caller = { workspaceId: string; holder: string };

export class TaskRoutes {
  // In insertion order, which is creation order: the first is the oldest.
  private readonly routes = new Map<string, TaskRoute>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new client-facing id for an upstream task; `ttlMs` as the upstream granted it. */
  add(caller: Caller, target: { connectionId: string; memberId: string | null; upstreamTaskId: string }, ttlMs: number | null | undefined): string {
    this.sweep();
    while (this.routes.size >= MAX_TASK_ROUTES) this.routes.delete(this.routes.keys().next().value as string);
    const id = `mgwtask_${crypto.randomUUID()}`;
    const lifetime = typeof ttlMs === "number" && ttlMs > 0 ? Math.min(ttlMs, MAX_TASK_ROUTE_MS) : DEFAULT_TASK_ROUTE_MS;
    this.routes.set(id, { ...caller, ...target, expiresAt: this.now() + lifetime });
    return id;
  }

  /** The route of `id` when this caller created it and it has not expired; null otherwise (the same answer either way). */
  find(caller: Caller, id: string): TaskRoute | null {
    const route = this.routes.get(id);
    if (!route || route.workspaceId !== caller.workspaceId || route.holder !== caller.holder) return null;
    if (route.expiresAt <= this.now()) {
      this.routes.delete(id);
      return null;
    }
    return route;
  }

  /** This caller's tasks, newest first, at most `limit`. */
  list(caller: Caller, limit: number): { id: string; route: TaskRoute }[] {
    this.sweep();
    const mine: { id: string; route: TaskRoute }[] = [];
    for (const [id, route] of this.routes) if (route.workspaceId === caller.workspaceId && route.holder === caller.holder) mine.push({ id, route });
    return mine.reverse().slice(0, limit);
  }

  private sweep(): void {
    const at = this.now();
    for (const [id, route] of this.routes) if (route.expiresAt <= at) this.routes.delete(id);
  }
}
