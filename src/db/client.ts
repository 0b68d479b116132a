import { Database as SQLite } from "bun:sqlite";
import { SQL } from "bun";
import { chmodSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { drizzle as drizzleSqlite, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { drizzle as drizzlePg } from "drizzle-orm/bun-sql";
import type { DatabaseTarget } from "../config.ts";
import * as sqliteSchema from "./schema.sqlite.ts";
import * as pgSchema from "./schema.pg.ts";
import { pgMigrations, sqliteMigrations, type EmbeddedMigration } from "./migrations.gen.ts";

/**
 * Services are written once against the SQLite schema's types. The Postgres schema has the same
 * tables, columns and JS types, so the same query-builder calls run on either dialect. Use only the
 * builder calls both share (`await` a builder, `.returning()`, `onConflictDo…`), never `.run()`/`.get()`.
 */
export type Db = BunSQLiteDatabase<typeof sqliteSchema>;
export type Tables = typeof sqliteSchema;

export type Database = {
  dialect: "sqlite" | "postgres";
  db: Db;
  t: Tables;
  /** Runs `fn` atomically; every multi-row write goes through here. */
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
  const db = drizzleSqlite({ client, schema: sqliteSchema });
  // What drizzle's migrate() does after reading the folder; the files are embedded instead.
  const internals = db as unknown as DrizzleInternals;
  internals.dialect.migrate(toMigrationMeta(sqliteMigrations), internals.session, {});

  // bun:sqlite is synchronous and drizzle's SQLite transactions cannot span an `await`, so we hold
  // one connection-wide transaction behind an async lock instead. Callers keep their bodies to
  // database work so nothing else interleaves for long.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    dialect: "sqlite",
    db,
    t: sqliteSchema,
    transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      const run = queue.then(async () => {
        client.run("BEGIN IMMEDIATE");
        try {
          const result = await fn(db);
          client.run("COMMIT");
          return result;
        } catch (error) {
          client.run("ROLLBACK");
          throw error;
        }
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async broadcast() {},
    async listen() {
      return async () => {};
    },
    withLock(_name, fn) {
      return fn();
    },
    async ping() {
      try {
        client.query("SELECT 1").get();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await queue;
      client.close();
    },
  };
}

async function openPostgres(url: string): Promise<Database> {
  const client = new SQL(url, { max: 10 });
  const pg = drizzlePg({ client, schema: pgSchema });
  const internals = pg as unknown as DrizzleInternals;
  await internals.dialect.migrate(toMigrationMeta(pgMigrations), internals.session, {});
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
