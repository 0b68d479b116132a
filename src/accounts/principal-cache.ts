import { preparedOnce, type Database } from "../db/client.ts";
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
 */

const MAX_ENTRIES = 10_000;
const CHANNEL = "mgw_auth";

export type Resolved = { principal: Principal; expiresAt: number | null };

type Entry = { principal: Principal; until: number };
type Cache = { entries: Map<string, Entry>; generation: number };

const cacheOf = preparedOnce((): Cache => ({ entries: new Map(), generation: 0 }));

function forget(database: Database): void {
  const cache = cacheOf(database);
  cache.entries.clear();
  cache.generation++;
}

/** The principal behind `tokenHash`: from memory when resolved within the last `rememberMs`, else from `resolve`. */
export async function rememberedPrincipal(
  database: Database,
  tokenHash: string,
  rememberMs: number,
  resolve: () => Promise<Resolved | null>,
  now = Date.now(),
): Promise<Principal | null> {
  if (rememberMs <= 0) return (await resolve())?.principal ?? null;
  const cache = cacheOf(database);
  const hit = cache.entries.get(tokenHash);
  if (hit && hit.until > now) return hit.principal;
  if (hit) cache.entries.delete(tokenHash);
  const generation = cache.generation;
  const resolved = await resolve();
  // A change that landed while this was read may not be in what was read: do not remember it.
  if (resolved === null || generation !== cache.generation) return resolved?.principal ?? null;
  if (cache.entries.size >= MAX_ENTRIES) cache.entries.delete(cache.entries.keys().next().value as string);
  cache.entries.set(tokenHash, { principal: resolved.principal, until: Math.min(now + rememberMs, resolved.expiresAt ?? Number.POSITIVE_INFINITY) });
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
