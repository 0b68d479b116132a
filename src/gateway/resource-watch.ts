/** Hears a watched resource change, by its gateway URI. */
export type UpdateListener = (gatewayUri: string) => void;

/** What a watch is about: one upstream URI on one connection's client (a member's own on a per-member connection). */
export type WatchTarget = { connectionId: string; connectionName: string; userId: string | null; uri: string };

/** `stop`: how the upstream subscription ends (set once the upstream accepted it). */
type Watch = { target: WatchTarget; listeners: Map<UpdateListener, number>; stop?: () => void };

/**
 * Who listens to which upstream resource: client sessions that sent resources/subscribe, and
 * 2026-07-28 listen streams that named resources. The upstream is subscribed once per resource,
 * whoever listens (`add` says when the first listener came, `remove` when the last went), and its
 * `notifications/resources/updated` fans out to every listener. A listener added twice (two
 * streams of one workspace share theirs) counts twice.
 */
export class ResourceWatch {
  private readonly watches = new Map<string, Watch>();

  /** True when this is the resource's first listener: the caller subscribes upstream. */
  add(target: WatchTarget, listener: UpdateListener): boolean {
    const key = keyOf(target.connectionId, target.userId, target.uri);
    let watch = this.watches.get(key);
    const first = !watch;
    if (!watch) {
      watch = { target, listeners: new Map() };
      this.watches.set(key, watch);
    }
    watch.listeners.set(listener, (watch.listeners.get(listener) ?? 0) + 1);
    return first;
  }

  /** How the upstream subscription of a watch that still has listeners ends; false when none has. */
  attachStop(target: WatchTarget, stop: () => void): boolean {
    const watch = this.watches.get(keyOf(target.connectionId, target.userId, target.uri));
    if (!watch) return false;
    watch.stop = stop;
    return true;
  }

  /** Removes one listener; the last one gone ends the upstream subscription. */
  remove(target: Pick<WatchTarget, "connectionId" | "userId" | "uri">, listener: UpdateListener): void {
    const key = keyOf(target.connectionId, target.userId, target.uri);
    const watch = this.watches.get(key);
    const count = watch?.listeners.get(listener);
    if (!watch || count === undefined) return;
    if (count > 1) watch.listeners.set(listener, count - 1);
    else watch.listeners.delete(listener);
    if (watch.listeners.size > 0) return;
    this.watches.delete(key);
    watch.stop?.();
  }

  /** An upstream said `uri` changed: every listener hears its gateway URI. */
  updated(connectionId: string, userId: string | null, uri: string, gatewayUri: (connectionName: string, uri: string) => string): void {
    const watch = this.watches.get(keyOf(connectionId, userId, uri));
    if (!watch) return;
    const wrapped = gatewayUri(watch.target.connectionName, uri);
    for (const listener of [...watch.listeners.keys()]) {
      try {
        listener(wrapped);
      } catch {
        // One gone session must not keep the others from hearing.
      }
    }
  }

  get size(): number {
    return this.watches.size;
  }
}

function keyOf(connectionId: string, userId: string | null, uri: string): string {
  return `${connectionId}\u0000${userId ?? ""}\u0000${uri}`;
}
