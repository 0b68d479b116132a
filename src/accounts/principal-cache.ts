import { preparedOnce, type Database } from "../db/client.ts";
import { withinMs } from "../db/deadline.ts";
import type { Principal } from "./principal.ts";

/*
 * The MCP endpoint resolves a key or access token to its member on every request. A resolved
 * principal is remembered for a moment (AUTH_CACHE_MS, 1 s by default), so a busy client does not
 * pay two database reads per call. Every change that can end or narrow access — a key or grant
 * revoked, a member deactivated, removed or given another role — calls `authChanged`, which forgets
 * every remembered principal here and, through the database's broadcast (Postgres NOTIFY), on every
 * replica. The moment bounds what a lost broadcast could leave; a key's or token's own expiry is
 * never exceeded. Only valid principals are remembered, keyed by the token's SHA-256 (never the
 * token itself).
 *
 * Stale-if-error (AUTH_STALE_IF_ERROR_MS, 10 min by default): when the database cannot answer, a
 * principal it confirmed within that window still stands, so clients in use keep working through
 * an outage. The trade-off: for that window, access is as it was when last confirmed. Nothing that
 * ends access can be written while the database is down, and whatever was ended before it went down
 * was broadcast and forgotten here (and on every replica that heard it), so what stays is a
 * principal no change has touched; the risk is a revocation whose broadcast was lost in the same
 * moment the database went away. Expiry still applies, and a key never confirmed lately is refused
 * (503, not 401: the database, not the key, is what failed).
 */

const MAX_ENTRIES = 10_000;
const CHANNEL = "mgw_auth";

export type Resolved = { principal: Principal; expiresAt: number | null };
/** `waitMs`: how long to wait for the database before it counts as unreachable (0: as long as the driver does). */
export type RememberPolicy = { rememberMs: number; staleIfErrorMs: number; waitMs: number };

type Entry = { principal: Principal; freshUntil: number; staleUntil: number };
type Cache = { entries: Map<string, Entry>; generation: number };

const cacheOf = preparedOnce((): Cache => ({ entries: new Map(), generation: 0 }));

function forget(database: Database): void {
  const cache = cacheOf(database);
  cache.entries.clear();
  cache.generation++;
}

/**
 * The principal behind `tokenHash`: from memory when resolved within `rememberMs`, else from
 * `resolve`; when `resolve` throws (the database is unreachable), from memory when resolved within
 * `staleIfErrorMs`, else the error goes on.
 */
export async function rememberedPrincipal(
  database: Database,
  tokenHash: string,
  policy: RememberPolicy,
  resolve: () => Promise<Resolved | null>,
  now = Date.now(),
): Promise<Principal | null> {
  if (policy.rememberMs <= 0 && policy.staleIfErrorMs <= 0) return (await withinMs(resolve(), policy.waitMs))?.principal ?? null;
  const cache = cacheOf(database);
  const hit = cache.entries.get(tokenHash);
  if (hit && hit.freshUntil > now) return hit.principal;
  const generation = cache.generation;
  let resolved: Resolved | null;
  try {
    resolved = await withinMs(resolve(), policy.waitMs);
  } catch (error) {
    // Still there after the wait: no change of access was heard meanwhile.
    if (hit && hit.staleUntil > now && cache.entries.get(tokenHash) === hit) return hit.principal;
    throw error;
  }
  if (hit) cache.entries.delete(tokenHash);
  // A change that landed while this was read may not be in what was read: do not remember it.
  if (resolved === null || generation !== cache.generation) return resolved?.principal ?? null;
  if (cache.entries.size >= MAX_ENTRIES) cache.entries.delete(cache.entries.keys().next().value as string);
  const expiresAt = resolved.expiresAt ?? Number.POSITIVE_INFINITY;
  cache.entries.set(tokenHash, {
    principal: resolved.principal,
    freshUntil: Math.min(now + policy.rememberMs, expiresAt),
    staleUntil: Math.min(now + Math.max(policy.rememberMs, policy.staleIfErrorMs), expiresAt),
  });
  return resolved.principal;
}

/** Access was ended or narrowed somewhere: forget every remembered principal, on every replica. */
export async function authChanged(database: Database): Promise<void> {
  forget(database);
  await database.broadcast(CHANNEL, "changed").catch(() => undefined);
}

/** Hears other replicas' `authChanged`; returns the way to stop. */
export function listenForAuthChanges(database: Database): Promise<() => Promise<void>> {
  return database.listen(CHANNEL, () => forget(database));
}
