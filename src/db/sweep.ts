import { lt } from "drizzle-orm";
import type { Database } from "./client.ts";
import type { Logger } from "../log.ts";

const SWEEP_EVERY_MS = 3_600_000;
// Expired rows are kept a day so a late replay still meets its row (and is refused as such).
const KEEP_EXPIRED_MS = 24 * 3_600_000;

/** Deletes what has expired: sessions, pending sign-in and OAuth flows, codes and tokens. */
export async function sweepExpired(database: Database, now = Date.now()): Promise<number> {
  const { t } = database;
  const before = now - KEEP_EXPIRED_MS;
  let removed = 0;
  for (const [table, column] of [
    [t.sessions, t.sessions.expiresAt],
    [t.oauthFlows, t.oauthFlows.expiresAt],
    [t.ssoFlows, t.ssoFlows.expiresAt],
    [t.oauthCodes, t.oauthCodes.expiresAt],
    [t.oauthTokens, t.oauthTokens.expiresAt],
  ] as const) {
    const rows = await database.db.delete(table).where(lt(column, before)).returning();
    removed += rows.length;
  }
  return removed;
}

/** Runs the sweep hourly (and once soon after start); returns the way to stop it. */
export function startSweeper(database: Database, log: Logger): () => void {
  const run = (): void => {
    sweepExpired(database)
      .then((removed) => removed > 0 && log.info("expired rows removed", { removed }))
      .catch((error: unknown) => log.warn("sweep of expired rows failed", { error: error instanceof Error ? error.message : String(error) }));
  };
  const first = setTimeout(run, 60_000);
  const timer = setInterval(run, SWEEP_EVERY_MS);
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
