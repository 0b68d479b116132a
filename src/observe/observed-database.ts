import type { Database } from "../db/client.ts";
import type { GatewayMetrics } from "./metrics.ts";
import type { Tracing } from "./request-context.ts";

/**
 * The same database, with every transaction (every multi-row write goes through one) timed for
 * the metrics and given a span when tracing is on, and pings timed. Single statements outside a
 * transaction are not wrapped: they are the reads on the hot path, and a wrapper per query would
 * cost more than what it measures; the ping each scrape makes tracks the round trip instead.
 */
export function observeDatabase(database: Database, observers: { metrics: GatewayMetrics | null; tracing: Tracing | null }): Database {
  const { metrics, tracing } = observers;
  if (!metrics && !tracing) return database;
  return {
    ...database,
    transaction(fn) {
      const started = performance.now();
      const run = tracing ? () => tracing.dbSpan("db transaction", { "db.operation.name": "transaction" }, () => database.transaction(fn)) : () => database.transaction(fn);
      const done = (): void => metrics?.observeDatabase("transaction", (performance.now() - started) / 1000);
      return run().finally(done);
    },
    async ping() {
      const started = performance.now();
      const ok = await database.ping();
      if (ok) metrics?.observeDatabase("ping", (performance.now() - started) / 1000);
      return ok;
    },
  };
}
