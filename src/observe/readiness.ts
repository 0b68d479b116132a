import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { withinMs } from "../db/deadline.ts";
import { pgMigrations, sqliteMigrations } from "../db/migrations.gen.ts";

export type Check = { ok: boolean; detail: string };
export type Readiness = { ok: boolean; failing: string[]; checks: Record<string, Check> };

/**
 * What /readyz reports, one check per dependency a replica cannot serve without, so that whoever
 * is paged sees which one failed: the database (answers within `waitMs`), and its schema (the
 * newest migration this build carries is applied). An upstream that is down is not a readiness
 * failure (the others still serve): see the connection metrics and the warn log instead.
 */
export async function checkReadiness(database: Database, waitMs: number): Promise<Readiness> {
  const reachable = await checkDatabase(database, waitMs);
  const checks: Record<string, Check> = {
    database: reachable,
    migrations: reachable.ok ? await checkMigrations(database, waitMs) : { ok: false, detail: "not checked: the database did not answer" },
  };
  const failing = Object.entries(checks).filter(([, check]) => !check.ok).map(([name]) => name);
  return { ok: failing.length === 0, failing, checks };
}

async function checkDatabase(database: Database, waitMs: number): Promise<Check> {
  const started = performance.now();
  try {
    if (await withinMs(database.ping(), waitMs)) return { ok: true, detail: `answered in ${Math.max(1, Math.round(performance.now() - started))} ms` };
    return { ok: false, detail: "the database refused the query" };
  } catch {
    return { ok: false, detail: `the database did not answer within ${waitMs} ms` };
  }
}

async function checkMigrations(database: Database, waitMs: number): Promise<Check> {
  const embedded = database.dialect === "sqlite" ? sqliteMigrations : pgMigrations;
  const expected = Math.max(...embedded.map((m) => m.when));
  try {
    const latest = await withinMs(latestApplied(database), waitMs);
    if (latest === null) return { ok: false, detail: "no migration is recorded as applied" };
    if (latest < expected) return { ok: false, detail: `the newest migration applied (${new Date(latest).toISOString()}) is older than this build's newest (${new Date(expected).toISOString()})` };
    return { ok: true, detail: latest > expected ? "applied, and newer ones too (a newer gateway migrated this database)" : "up to date" };
  } catch (error) {
    return { ok: false, detail: `the migrations table could not be read: ${error instanceof Error ? error.message.slice(0, 120) : "error"}` };
  }
}

/** Drizzle records each migration it applied with its folder time (`created_at`). */
async function latestApplied(database: Database): Promise<number | null> {
  if (database.dialect === "sqlite") {
    const rows = (await (database.db as unknown as RawSqlite).all(sql`select max(created_at) as latest from __drizzle_migrations`)) as { latest: number | null }[];
    return rows[0]?.latest ?? null;
  }
  const rows = (await (database.db as unknown as RawPostgres).execute(sql`select max(created_at)::float8 as latest from drizzle.__drizzle_migrations`)) as { latest: number | null }[];
  return rows[0]?.latest ?? null;
}

type RawSqlite = { all(query: ReturnType<typeof sql>): Promise<unknown[]> };
type RawPostgres = { execute(query: ReturnType<typeof sql>): Promise<unknown[]> };
