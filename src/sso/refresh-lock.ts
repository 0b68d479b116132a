import type { Database } from "../db/client.ts";

/**
 * One use of an SSO identity's refresh token at a time. Refresh tokens rotate: the IdP takes a
 * second use of a spent one as theft and revokes the member's grant, so revalidation and ID-JAG
 * exchanges (for any number of connections) queue here — in memory within a process, and under a
 * Postgres advisory lock across replicas — and each re-reads the stored token.
 */
const queues = new Map<string, Promise<unknown>>();

export function withIdentityLock<T>(database: Database, identityId: string, work: () => Promise<T>): Promise<T> {
  const locked = (): Promise<T> => database.withLock(`mgw-sso-identity:${identityId}`, work);
  const previous = queues.get(identityId) ?? Promise.resolve();
  const run = previous.then(locked, locked);
  const settled = run.catch(() => undefined);
  queues.set(identityId, settled);
  void settled.then(() => {
    if (queues.get(identityId) === settled) queues.delete(identityId);
  });
  return run;
}
