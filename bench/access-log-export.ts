// `bun bench/access-log-export.ts`: the gateway's resident memory while it streams an export of
// 100,000 access-log rows (CSV, then JSON lines) to a reader that takes its time, and what the
// usage queries cost on that many rows. The gateway is the real program (setup, keys, serve);
// the rows are written straight to its database (WAL lets both hold it). BENCH_ROWS changes the
// count; DATABASE_URL=postgres://… runs it on Postgres.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/client.ts";
import { newId } from "../src/crypto/tokens.ts";
import { summarizeUsage, usageByTool } from "../src/usage/usage.ts";
import { rssMiB, spawnGateway } from "./run.ts";

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const BATCH = 1000;

const dataDir = mkdtempSync(join(tmpdir(), "mgw-bench-export-"));
const gateway = await spawnGateway({ DATA_DIR: dataDir });
const loaded = loadConfig({ DATA_DIR: dataDir, ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}) });
if (!loaded.ok) throw new Error(loaded.errors.join("; "));
const database = await openDatabase(loaded.config.database);
try {
  const [workspace] = await database.db.select().from(database.t.workspaces);
  const [user] = await database.db.select().from(database.t.users);
  const now = Date.now();
  const seedStarted = performance.now();
  for (let done = 0; done < ROWS; done += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, ROWS - done) }, (_, i) => {
      const n = done + i;
      return {
        id: newId(),
        // Spread over the last week, oldest first, as a busy week of calls would be.
        at: now - 7 * 24 * 3600_000 + Math.floor((n / ROWS) * 7 * 24 * 3600_000),
        workspaceId: workspace!.id,
        userId: user!.id,
        apiKeyId: null,
        connectionName: `server-${n % 5}`,
        tool: `tool_${n % 40}`,
        outcome: n % 17 === 0 ? ("tool_error" as const) : ("ok" as const),
        latencyMs: (n * 7919) % 900,
        errorSummary: n % 17 === 0 ? `The tool said no, row ${n}, "quoted", =SUM(A1)` : null,
      };
    });
    await database.transaction(async (tx) => {
      await tx.insert(database.t.accessLog).values(rows);
    });
  }
  console.log(`seeded ${ROWS} rows in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s (${database.dialect})`);

  // Usage on this many rows, in this process (the same SQL the pages run).
  for (const [label, run] of [
    ["summary: hour, day, week (whole workspace)", () => summarizeUsage(database, workspace!.id, { now })],
    ["summary: one connection (20k rows a week)", () => summarizeUsage(database, workspace!.id, { connection: "server-1", now })],
    ["per tool, one connection, week", () => usageByTool(database, workspace!.id, "server-1", "week", now)],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await run();
      times.push(performance.now() - started);
    }
    console.log(`${label.padEnd(46)} median ${times.sort((a, b) => a - b)[2]!.toFixed(0)} ms`);
  }

  for (const format of ["csv", "jsonl"] as const) {
    // Warm the route once, so the baseline includes what any first request allocates.
    await (await fetch(`${gateway.url}/api/v1/access-log?limit=1`, { headers: { authorization: `Bearer ${gateway.key}` } })).text();
    Bun.gc(true);
    const before = rssMiB(gateway.pid);
    const samples: number[] = [];
    // RSS when a quarter, half, three quarters and all of the rows had arrived: flat means bounded.
    const atQuarter: number[] = [];
    const sampler = setInterval(() => samples.push(rssMiB(gateway.pid)), 50);
    const started = performance.now();
    const response = await fetch(`${gateway.url}/api/v1/access-log/export?format=${format}`, { headers: { authorization: `Bearer ${gateway.key}` } });
    const reader = response.body!.getReader();
    let bytes = 0;
    let newlines = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.length;
      for (const b of value) if (b === 10) newlines++;
      if (newlines >= ((atQuarter.length + 1) * ROWS) / 4 && atQuarter.length < 3) atQuarter.push(rssMiB(gateway.pid));
      // A slow reader: if the gateway did not wait for it, everything would pile up in its memory.
      await Bun.sleep(1);
    }
    clearInterval(sampler);
    atQuarter.push(rssMiB(gateway.pid));
    const seconds = (performance.now() - started) / 1000;
    samples.sort((a, b) => a - b);
    console.log(
      `${format.padEnd(5)} ${newlines} lines, ${(bytes / 1048576).toFixed(1)} MiB in ${seconds.toFixed(1)} s; gateway RSS before ${before} MiB, ` +
        `during median ${samples[Math.floor(samples.length / 2)]} MiB, max ${samples.at(-1)} MiB (${samples.length} samples); at 25/50/75/100%: ${atQuarter.join(" / ")} MiB`,
    );
  }
} finally {
  await database.close();
  await gateway.stop();
}
