// `bun bench/sqlite-statements.ts`: what one statement through the SQLite `Db` costs — 10,000
// selects by primary key (a fresh builder each, and one prepared statement), median of 5 rounds.
// Measures the statement gate of `Database.transaction` on the hot path; no transaction is open.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { openDatabase } from "../src/db/client.ts";

const N = Number(process.env.BENCH_STATEMENTS ?? 10_000);
const ROUNDS = 5;

const dir = mkdtempSync(join(tmpdir(), "mgw-bench-db-"));
const database = await openDatabase({ kind: "sqlite", path: join(dir, "gateway.db") });
try {
  const { t } = database;
  await database.db.insert(t.workspaces).values({ id: "w1", name: "bench", createdAt: Date.now() });
  const prepared = database.db.select().from(t.workspaces).where(eq(t.workspaces.id, sql.placeholder("id"))).prepare();

  async function builders(): Promise<number> {
    const started = performance.now();
    for (let i = 0; i < N; i++) await database.db.select().from(t.workspaces).where(eq(t.workspaces.id, "w1"));
    return performance.now() - started;
  }
  async function preparedOnes(): Promise<number> {
    const started = performance.now();
    for (let i = 0; i < N; i++) await prepared.execute({ id: "w1" });
    return performance.now() - started;
  }
  for (const [name, run] of [["builder", builders], ["prepared", preparedOnes]] as const) {
    await run(); // warm-up
    const times: number[] = [];
    for (let r = 0; r < ROUNDS; r++) times.push(await run());
    times.sort((a, b) => a - b);
    const median = times[Math.floor(ROUNDS / 2)]!;
    console.log(`${name.padEnd(8)} ${N} selects by primary key: ${median.toFixed(1)} ms (${((median * 1000) / N).toFixed(2)} µs each)`);
  }
} finally {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
