// `bun bench/sqlite-statements.ts`: what the statement gate of `Database.transaction` costs on the
// SQLite hot path. 10,000 selects by primary key, through drizzle's plain bun-sqlite driver and
// through the gated one, on one WAL-mode file, rounds alternating (a shared machine drifts; the
// median round is reported). Both as a fresh builder each time and as one prepared statement.
import { Database as SQLite } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sqlite";
import * as schema from "../src/db/schema.sqlite.ts";
import { drizzleGated } from "../src/db/gated-session.ts";
import { StatementGate } from "../src/db/statement-gate.ts";

const N = Number(process.env.BENCH_STATEMENTS ?? 10_000);
const ROUNDS = 11;

const dir = mkdtempSync(join(tmpdir(), "mgw-bench-db-"));
const client = new SQLite(join(dir, "gateway.db"), { create: true, strict: true });
try {
  client.run("PRAGMA journal_mode = WAL");
  client.run("create table workspaces (id text primary key, name text not null, created_at integer not null)");
  client.run("insert into workspaces values ('w1', 'bench', 1)");
  const dbs = { plain: drizzle({ client, schema }), gated: drizzleGated(client, new StatementGate(), schema) };
  const byId = eq(schema.workspaces.id, sql.placeholder("id"));
  const runs: Record<string, () => Promise<void>> = {};
  for (const [name, db] of Object.entries(dbs)) {
    const prepared = db.select().from(schema.workspaces).where(byId).prepare();
    runs[`${name} builder`] = async () => {
      for (let i = 0; i < N; i++) await db.select().from(schema.workspaces).where(eq(schema.workspaces.id, "w1"));
    };
    runs[`${name} prepared`] = async () => {
      for (let i = 0; i < N; i++) await prepared.execute({ id: "w1" });
    };
  }
  const times: Record<string, number[]> = {};
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, run] of Object.entries(runs)) {
      const started = performance.now();
      await run();
      if (round === 0) continue; // round 0 warms up
      times[name] ??= [];
      times[name].push(performance.now() - started);
    }
  }
  for (const [name, list] of Object.entries(times)) {
    const median = list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
    console.log(`${name.padEnd(16)} ${N} selects by primary key: ${median.toFixed(1)} ms (${((median * 1000) / N).toFixed(2)} µs each)`);
  }
} finally {
  client.close();
  rmSync(dir, { recursive: true, force: true });
}
