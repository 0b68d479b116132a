// `bun bench/audit-accesslog.ts [--baseline /work/main] [--rows 20000] [--rounds 5] [--database-url postgres://…]`:
// what the access log costs per call. The same workload runs against this checkout's recorder
// (printed as "audit": access-log rows and their audit entries, in one transaction per batch) and
// against a baseline checkout's (first written against one that wrote access-log rows only; any
// checkout will do), rounds alternating, each on a fresh database: N `record()` calls (the call's
// hot path) and then the batched write (`flush()`, off the hot path). CPU time (user + system, this
// process) is reported besides wall time, because the machine is shared: CPU per row is the
// comparison, wall time also shows the neighbours. The
// median batch's transaction (wall time, from `onWrite`) is how long one batch holds SQLite's
// connection — and, there, the event loop.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SQL } from "bun";

const { values } = parseArgs({ options: { baseline: { type: "string" }, rows: { type: "string" }, rounds: { type: "string" }, "database-url": { type: "string" } } });
const ROWS = Number(values.rows ?? 20_000);
const ROUNDS = Number(values.rounds ?? 5);
const roots = { baseline: resolve(values.baseline ?? "/work/main"), audit: resolve(import.meta.dir, "..") };

type Recorder = { record(entry: object): void; flush(): Promise<void>; pending: number };
type Side = {
  openDatabase(target: object): Promise<{ close(): Promise<void> }>;
  AccessLogRecorder: new (database: unknown, log: unknown, options: object) => Recorder;
  createLogger(level: string, write: (line: string) => void): unknown;
};

async function load(root: string): Promise<Side> {
  const [client, recorder, log] = await Promise.all([import(join(root, "src/db/client.ts")), import(join(root, "src/accesslog/recorder.ts")), import(join(root, "src/log.ts"))]);
  return { openDatabase: client.openDatabase, AccessLogRecorder: recorder.AccessLogRecorder, createLogger: log.createLogger };
}

async function freshTarget(dir: string, round: string): Promise<{ target: object; drop(): Promise<void> }> {
  const base = values["database-url"];
  if (!base) return { target: { kind: "sqlite", path: join(dir, `${round}.db`) }, drop: async () => {} };
  const name = `mgw_bench_al_${process.pid}_${round}`;
  const admin = new SQL(base, { max: 1 });
  await admin.unsafe(`create database ${name}`);
  await admin.close();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    target: { kind: "postgres", url: url.toString() },
    drop: async () => {
      const admin = new SQL(base, { max: 1 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function round(side: Side, name: string, dir: string, index: number): Promise<{ recordUs: number; flushCpuMs: number; flushWallMs: number; batchMs: number }> {
  const { target, drop } = await freshTarget(dir, `${name}${index}`);
  const database = await side.openDatabase(target);
  try {
    const batches: number[] = [];
    const onWrite = (seconds: number): void => void batches.push(seconds * 1000);
    const recorder = new side.AccessLogRecorder(database, side.createLogger("error", () => {}), { dataDir: dir, memoryRows: ROWS * 2, waitMs: 0, onWrite });
    const at = Date.now();
    let cpu = process.cpuUsage();
    for (let i = 0; i < ROWS; i++) {
      recorder.record({ at: at + i, workspaceId: "w1", userId: "u1", apiKeyId: "k1", connectionName: "linear", tool: "create_issue", outcome: "ok", latencyMs: 12, errorSummary: null, credentialUserId: null });
    }
    const recordUs = (cpuMs(cpu) * 1000) / ROWS;
    cpu = process.cpuUsage();
    const started = performance.now();
    await recorder.flush();
    if (recorder.pending !== 0) throw new Error("rows left unwritten");
    const flushCpuMs = cpuMs(cpu);
    return { recordUs, flushCpuMs, flushWallMs: performance.now() - started, batchMs: median(batches) };
  } finally {
    await database.close();
    await drop();
  }
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;

const sides = { baseline: await load(roots.baseline), audit: await load(roots.audit) };
const dir = mkdtempSync(join(tmpdir(), "mgw-bench-al-"));
const results: Record<string, { recordUs: number[]; flushCpuMs: number[]; flushWallMs: number[]; batchMs: number[] }> = {};
try {
  for (let i = 0; i <= ROUNDS; i++) {
    for (const [name, side] of Object.entries(sides)) {
      const r = await round(side, name, dir, i);
      if (i === 0) continue; // warm-up
      results[name] ??= { recordUs: [], flushCpuMs: [], flushWallMs: [], batchMs: [] };
      const into = results[name];
      into.recordUs.push(r.recordUs);
      into.flushCpuMs.push(r.flushCpuMs);
      into.flushWallMs.push(r.flushWallMs);
      into.batchMs.push(r.batchMs);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${values["database-url"] ? "postgres" : "sqlite"}, ${ROWS.toLocaleString("en")} calls, median of ${ROUNDS} rounds (baseline: ${roots.baseline})`);
for (const [name, r] of Object.entries(results)) {
  const cpu = median(r.flushCpuMs);
  console.log(
    `${name.padEnd(9)} record(): ${median(r.recordUs).toFixed(2)} µs CPU per call | flush: ${cpu.toFixed(0)} ms CPU (${((cpu * 1000) / ROWS).toFixed(1)} µs per row), ${median(r.flushWallMs).toFixed(0)} ms wall, ${median(r.batchMs).toFixed(2)} ms per batch`,
  );
}
