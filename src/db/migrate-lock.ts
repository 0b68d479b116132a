import type { SQL } from "bun";

/**
 * Replicas started together on an empty database would each run the migrations at once, and all
 * but one would fail on a duplicate key (drizzle's CREATE SCHEMA / CREATE TABLE race). The first to
 * take this cluster-wide lock migrates; the others wait for it, then find nothing left to do.
 */
const MIGRATION_LOCK = "mcp-gateway:migrations";

/** The database was reached, but bringing its schema up to date failed. */
export class MigrationFailed extends Error {
  override name = "MigrationFailed";

  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Runs `migrate` while holding a session-level advisory lock on a connection of its own (the
 * migrations themselves run on the pool). A replica that dies while holding it loses its
 * connection, and with it the lock: nobody waits forever.
 */
export async function migrateUnderLock(client: SQL, migrate: () => Promise<void>): Promise<void> {
  const holder = await client.reserve();
  try {
    await holder`select pg_advisory_lock(hashtextextended(${MIGRATION_LOCK}, 0))`;
    try {
      await migrate();
    } catch (error) {
      throw new MigrationFailed(describeMigrationError(error));
    } finally {
      await holder`select pg_advisory_unlock(hashtextextended(${MIGRATION_LOCK}, 0))`.catch(() => undefined);
    }
  } finally {
    holder.release();
  }
}

/**
 * Drizzle's error quotes the whole failed statement (a page of SQL): the operator needs
 * PostgreSQL's own words, which are in its cause.
 */
function describeMigrationError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const text = cause instanceof Error ? cause.message : String(cause);
  const firstLine = text.split("\n")[0]!.trim();
  return firstLine.length > 300 ? `${firstLine.slice(0, 300)}…` : firstLine;
}
