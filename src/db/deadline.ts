/**
 * How long a request waits on the database before it answers without it. A database that refuses
 * connections fails at once; one that accepts and then drops them, or a network that drops
 * packets, leaves a query waiting on the driver's connect timeout (30 s in Bun's SQL client):
 * past `ms`, the request goes on from memory or says the database is unavailable.
 */
export class DatabaseTooSlow extends Error {
  constructor(ms: number) {
    super(`the database did not answer within ${ms} ms`);
    this.name = "DatabaseTooSlow";
  }
}

/** `work`, or a DatabaseTooSlow rejection after `ms` (no deadline when `ms` is 0). */
export function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0) return work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseTooSlow(ms)), ms);
  });
  // The query goes on after the deadline; its own failure must not surface as unhandled.
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
