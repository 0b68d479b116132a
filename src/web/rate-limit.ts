/**
 * Fixed-window counters per client address, in memory (per replica): enough to stop one client
 * from filling the database through open endpoints (client registration, SSO starts). The address
 * is the socket's peer: behind a reverse proxy that is the proxy, so the limit applies to all.
 */
export type RateLimiter = { take(key: string, now?: number): { ok: true } | { ok: false; retryAfterSeconds: number } };

const MAX_KEYS = 10_000;

export function createRateLimiter(options: { limit: number; windowMs: number }): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(key, now = Date.now()) {
      let window = windows.get(key);
      if (!window || now - window.start >= options.windowMs) {
        if (!window && windows.size >= MAX_KEYS) windows.clear();
        window = { start: now, count: 0 };
        windows.set(key, window);
      }
      window.count++;
      if (window.count <= options.limit) return { ok: true };
      return { ok: false, retryAfterSeconds: Math.ceil((window.start + options.windowMs - now) / 1000) };
    },
  };
}

const peers = new WeakMap<Request, string>();

/** Set by the server for each request it accepts. */
export function rememberPeer(request: Request, address: string | undefined): void {
  if (address) peers.set(request, address);
}

export function peerOf(request: Request): string {
  return peers.get(request) ?? "unknown";
}
