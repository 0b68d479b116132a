import { Database as SQLite } from "bun:sqlite";
import { SQL } from "bun";
import { chmodSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { drizzle as drizzlePg } from "drizzle-orm/bun-sql";
import type { DatabaseTarget } from "../config.ts";
import * as sqliteSchema from "./schema.sqlite.ts";
import * as pgSchema from "./schema.pg.ts";
import { pgMigrations, sqliteMigrations, type EmbeddedMigration } from "./migrations.gen.ts";
import { StatementGate } from "./statement-gate.ts";
import { drizzleGated } from "./gated-session.ts";
import { migrateUnderLock } from "./migrate-lock.ts";

/**
 * Services are written once against the SQLite schema's types. Both schemas come from one definition
 * (schema.ts) and dialects-agree.ts proves every table's rows have the same types on Postgres, so the
 * same query-builder calls run on either dialect. Use only the builder calls both share (`await` a
 * builder, `.returning()`, `onConflictDo…`), never `.run()`/`.get()`.
 */
export type Db = BunSQLiteDatabase<typeof sqliteSchema>;
export type Tables = typeof sqliteSchema;

export type Database = {
  dialect: "sqlite" | "postgres";
  db: Db;
  t: Tables;
  /**
   * Runs `fn` atomically; every multi-row write goes through here. Other requests' statements never
   * run inside it (on SQLite they wait for its end), so keep sealing, unsealing and network work
   * before it. A transaction cannot be opened inside another: pass `tx` down instead.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /**
   * Messages between gateway replicas that share this database (Postgres LISTEN/NOTIFY). With
   * SQLite there is only one process, so nothing is sent.
   */
  broadcast(channel: string, payload: string): Promise<void>;
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * Runs `fn` while holding a lock named `name` across every replica (a Postgres advisory lock held
   * by a transaction on its own connection). With SQLite there is one process: callers serialise
   * in memory, and `fn` just runs.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Runs `fn`, then makes sure what it overwrote or deleted in `tables` leaves no copy in the
   * database's files. SQLite: freed space is zeroed while `fn` runs (secure_delete), then the WAL is
   * checkpointed and truncated and the file rebuilt (VACUUM). Postgres: `VACUUM FULL` rewrites the
   * tables into new files; dead copies may survive in the WAL segments, in blocks the file system
   * freed, and in backups — beyond what a client can reach.
   */
  eraseOverwritten<T>(tables: string[], fn: () => Promise<T>): Promise<T>;
};

/**
 * A value built once per database: a statement for queries on every request (Drizzle would
 * otherwise rebuild and re-prepare it each time), or per-database state such as a cache.
 */
export function preparedOnce<T>(build: (database: Database) => T): (database: Database) => T {
  const cache = new WeakMap<Database, T>();
  return (database) => {
    let prepared = cache.get(database);
    if (prepared === undefined) {
      prepared = build(database);
      cache.set(database, prepared);
    }
    return prepared;
  };
}

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  return target.kind === "sqlite" ? openSqlite(target.path) : openPostgres(target.url);
}

function openSqlite(path: string): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 }); // the database holds sealed secrets and hashes: owner only
  const client = new SQLite(path, { create: true, strict: true });
  // SQLite gives its -wal and -shm files the database file's mode.
  if (path !== ":memory:") chmodSync(path, 0o600);
  client.run("PRAGMA journal_mode = WAL");
  client.run("PRAGMA synchronous = NORMAL");
  client.run("PRAGMA foreign_keys = ON");
  client.run("PRAGMA busy_timeout = 5000");
  const gate = new StatementGate();
  const db = drizzleGated(client, gate, sqliteSchema);
  // What drizzle's migrate() does after reading the folder; the files are embedded instead.
  const internals = db as unknown as DrizzleInternals;
  internals.dialect.migrate(toMigrationMeta(sqliteMigrations), internals.session, {});

  // bun:sqlite is synchronous and drizzle's SQLite transactions cannot span an `await`, so one
  // connection-wide transaction is held across the body's awaits. The gate keeps every other
  // request's statement (and transaction) out of it until it ends.
  return {
    dialect: "sqlite",
    db,
    t: sqliteSchema,
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      // The outer transaction would wait for the inner one, and the inner one for the outer.
      if (gate.inside()) throw new Error("Database.transaction was called inside another transaction: pass its `tx` down instead.");
      return gate.exclusive(async () => {
        client.run("BEGIN IMMEDIATE");
        try {
          const result = await fn(db);
          client.run("COMMIT");
          return result;
        } catch (error) {
          // A failed COMMIT may have rolled back already.
          if (client.inTransaction) client.run("ROLLBACK");
          throw error;
        }
      });
    },
    async broadcast() {},
    async listen() {
      return async () => {};
    },
    withLock(_name, fn) {
      return fn();
    },
    async eraseOverwritten(_tables, fn) {
      client.run("PRAGMA secure_delete = ON");
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn();
      } finally {
        client.run("PRAGMA secure_delete = OFF");
      }
      // In one turn, with no transaction open: the WAL's frames hold whole pages as they were.
      await gate.after(() => {
        client.run("PRAGMA wal_checkpoint(TRUNCATE)");
        client.run("VACUUM");
        client.run("PRAGMA wal_checkpoint(TRUNCATE)");
      });
      return result;
    },
    async ping() {
      try {
        await gate.after(() => client.query("SELECT 1").get());
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await gate.idle();
      client.close();
    },
  };
}

async function openPostgres(url: string): Promise<Database> {
  const client = new SQL(url, { max: 10 });
  const pg = drizzlePg({ client, schema: pgSchema });
  const internals = pg as unknown as DrizzleInternals;
  await migrateUnderLock(client, async () => void (await internals.dialect.migrate(toMigrationMeta(pgMigrations), internals.session, {}))).catch(async (error: unknown) => {
    await client.close().catch(() => undefined);
    throw error;
  });
  // Postgres seen through the SQLite types services are written against: sound for the rows
  // (dialects-agree.ts) and for the builder calls both dialects share (see Db above).
  const db = pg as unknown as Db;
  // Lock holders wait on the provider while `fn` queries through `client`: on a pool of their own,
  // a burst of refreshes can never take every connection `fn` needs (a deadlock on one pool).
  let locks: SQL | null = null;
  return {
    dialect: "postgres",
    db,
    t: pgSchema as unknown as Tables,
    transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      return pg.transaction((tx) => fn(tx as unknown as Db));
    },
    async broadcast(channel, payload) {
      await client.notify(channel, payload);
    },
    async listen(channel, onMessage) {
      const subscription = await client.listen(channel, onMessage);
      return () => subscription.unlisten();
    },
    withLock(name, fn) {
      locks ??= new SQL(url, { max: 16 });
      // Released when the transaction ends, whatever `fn` does.
      return locks.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`;
        return fn();
      });
    },
    async eraseOverwritten(tables, fn) {
      const result = await fn();
      // VACUUM cannot run inside a transaction; FULL writes each table anew instead of marking dead rows free.
      await client.unsafe(`VACUUM FULL ${tables.map((name) => `"${name.replaceAll('"', '""')}"`).join(", ")}`);
      return result;
    },
    async ping() {
      try {
        await pg.execute(sql`select 1`);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all([client.close(), locks?.close()]);
    },
  };
}

type DrizzleInternals = { dialect: { migrate(m: MigrationMeta[], session: unknown, config: object): unknown }; session: unknown };
type MigrationMeta = { sql: string[]; bps: boolean; folderMillis: number; hash: string };

// The same shape drizzle's readMigrationFiles() builds from the folder, built from embedded text.
function toMigrationMeta(migrations: EmbeddedMigration[]): MigrationMeta[] {
  return migrations.map((m) => ({
    sql: m.sql.split("--> statement-breakpoint"),
    bps: m.breakpoints,
    folderMillis: m.when,
    hash: createHash("sha256").update(m.sql).digest("hex"),
  }));
}
