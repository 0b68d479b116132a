// `bun bench/audit-export.ts [--entries 100000] [--database-url postgres://…]`: `mcp-gateway audit
// export` (and `audit verify`) over a trail of N entries, run as the operator runs them — a child
// process — with the child's resident memory sampled from /proc every 10 ms. The export pages by seq
// and writes each page before reading the next, so its peak should not grow with N: the script runs
// N/10 first for comparison. Output goes to a file (its size is reported).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SQL } from "bun";
import { openDatabase, type Database } from "../src/db/client.ts";
import { appendAuditEvents } from "../src/audit/record.ts";

const { values } = parseArgs({ options: { entries: { type: "string" }, "database-url": { type: "string" } } });
const N = Number(values.entries ?? 100_000);
const ROOT = join(import.meta.dir, "..");

async function fill(database: Database, count: number): Promise<void> {
  const at = Date.now() - count;
  for (let done = 0; done < count; done += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - done) }, (_, i) => ({
      workspaceId: "w1",
      action: "tool.called",
      target: "linear/create_issue",
      actor: "user:01J9ZK5Q7W3YV2M8X4T6R0N1PB/credential:01J9ZK6A1B2C3D4E5F6G7H8J9K",
      fromIp: "10.1.2.3",
      fromUserAgent: "claude-code/2.1.0",
      details: { accessLogId: `01J9ZK${done + i}`, outcome: "ok", latencyMs: 42, errorSummary: null, credentialUserId: null },
      at: at + done + i,
    }));
    await database.transaction((tx) => appendAuditEvents(database, tx, batch, at));
  }
}

/** Runs the CLI with its stdout in a file; returns its exit code, wall time and peak RSS seen. */
async function measure(args: string[], env: Record<string, string>, out: string): Promise<{ code: number; ms: number; peakMiB: number; bytes: number }> {
  const started = performance.now();
  const child = Bun.spawn([process.execPath, "src/main.ts", "audit", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdout: Bun.file(out), stderr: "inherit" });
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (rss) peak = Math.max(peak, Number(rss[1]));
    } catch {
      // exited between samples
    }
  }, 10);
  const code = await child.exited;
  clearInterval(sampler);
  return { code, ms: performance.now() - started, peakMiB: peak / 1024, bytes: statSync(out).size };
}

async function run(count: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mgw-bench-audit-"));
  let url = values["database-url"];
  let drop: (() => Promise<void>) | null = null;
  if (url) {
    const name = `mgw_bench_audit_${process.pid}_${count}`;
    const admin = new SQL(url, { max: 1 });
    await admin.unsafe(`create database ${name}`);
    await admin.close();
    const base = url;
    const parsed = new URL(url);
    parsed.pathname = `/${name}`;
    url = parsed.toString();
    drop = async () => {
      const admin = new SQL(base, { max: 1 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.close();
    };
  }
  const databaseUrl = url ?? join(dir, "gateway.db");
  try {
    const database = await openDatabase(url ? { kind: "postgres", url } : { kind: "sqlite", path: databaseUrl });
    const filling = performance.now();
    await fill(database, count);
    const fillMs = performance.now() - filling;
    await database.close();
    const env = { DATA_DIR: dir, DATABASE_URL: databaseUrl };
    // The same process doing nothing but start (load every module, open the database): the floor.
    const floor = await measure(["export", "--from", "2999-01-01"], env, join(dir, "empty.jsonl"));
    const exported = await measure(["export"], env, join(dir, "export.jsonl"));
    const verified = await measure(["verify"], env, join(dir, "verify.txt"));
    const kind = url ? "postgres" : "sqlite";
    console.log(
      `${kind} ${count.toLocaleString("en")} entries (appended in ${(fillMs / 1000).toFixed(1)} s): ` +
        `empty export peak RSS ${floor.peakMiB.toFixed(1)} MiB; export exit ${exported.code}, ${(exported.ms / 1000).toFixed(2)} s, ${(exported.bytes / 2 ** 20).toFixed(1)} MiB written, peak RSS ${exported.peakMiB.toFixed(1)} MiB; ` +
        `verify exit ${verified.code}, ${(verified.ms / 1000).toFixed(2)} s, peak RSS ${verified.peakMiB.toFixed(1)} MiB`,
    );
  } finally {
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const count of values.entries ? [Math.max(1000, Math.round(N / 10)), N] : [10_000, 100_000, 300_000]) await run(count);
