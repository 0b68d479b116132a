// `bun run bench`: tools/call straight to an upstream versus through the gateway, at concurrency
// 1, 16 and 64, and tools/list of 50 connected servers with 40 tools each. The gateway runs as its
// own process (as in production) so its RSS is its own; upstreams and the client share this one.
// Loopback only; every loop is bounded in count.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/client";
import { startUpstream, type Upstream } from "../test/helpers/upstream.ts";
import { connectClient } from "../test/helpers/client.ts";
import { connectUpstream } from "../src/upstream/client.ts";
import { parseUpstreamAllow, type UpstreamAllowList } from "../src/net/url-policy.ts";

function allowLoopback(): UpstreamAllowList {
  const parsed = parseUpstreamAllow("127.0.0.1");
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.allow;
}

export const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const LEVELS = (process.env.BENCH_LEVELS ?? "1,16,64").split(",").map(Number);
// The JIT keeps compiling the gateway's hot path for the first few thousand calls; a gateway lives
// for millions, so the steady state is what is measured.
export const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);
// Direct and gateway runs alternate, ROUNDS of each per level, and the median round is reported:
// on a shared machine the speed of both drifts together, and alternating keeps them comparable.
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

export type Stats = { p50: number; p99: number; perSecond: number; n: number };

export function summarize(samples: number[], wallMs: number): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: round(at(0.5)), p99: round(at(0.99)), perSecond: Math.round((samples.length / wallMs) * 1000), n: samples.length };
}

export const round = (x: number): number => Math.round(x * 100) / 100;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return round(sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** `total` calls spread over `concurrency` workers, each timing its own calls. */
export async function measure(concurrency: number, total: number, once: () => Promise<unknown>): Promise<Stats> {
  const samples: number[] = [];
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < total) {
        issued++;
        const t0 = performance.now();
        await once();
        samples.push(performance.now() - t0);
      }
    }),
  );
  return summarize(samples, performance.now() - started);
}

export type SpawnedGateway = { url: string; key: string; pid: number; stop(): Promise<void> };

/** The real program, as an operator runs it: setup, a key, serve. `settings`: more of its environment. */
export async function spawnGateway(settings: Record<string, string> = {}): Promise<SpawnedGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), "mgw-bench-"));
  // The outbound limit set here as the gateway would set it for itself: `serve` then runs in this
  // process instead of relaunching as a child, so the PID measured below is the gateway's.
  const env = { ...process.env, DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "warn", UPSTREAM_ALLOW: "127.0.0.1", BUN_CONFIG_MAX_HTTP_REQUESTS: "4096", ...settings };
  const cwd = join(import.meta.dir, "..");
  const setup = Bun.spawn(["bun", "src/main.ts", "setup", "--email", "bench@example.com", "--password-stdin"], { cwd, env, stdin: new TextEncoder().encode("bench password 123\n"), stderr: "ignore" });
  if ((await setup.exited) !== 0) throw new Error("setup failed");
  const keys = Bun.spawn(["bun", "src/main.ts", "keys", "create", "--email", "bench@example.com", "--name", "bench"], { cwd, env, stdout: "pipe" });
  const key = (await new Response(keys.stdout).text()).trim();
  // BENCH_PIN=1: the gateway on core 1 (run the bench itself under `taskset -c 0`), so the two
  // processes do not take turns on one core.
  const pin = process.env.BENCH_PIN === "1" ? ["taskset", "-c", "1"] : [];
  // BENCH_BUN_FLAGS, e.g. "--cpu-prof-md --cpu-prof-dir=/tmp/prof": profile the gateway process.
  const flags = (process.env.BENCH_BUN_FLAGS ?? "").split(" ").filter(Boolean);
  const serve = Bun.spawn([...pin, "bun", ...flags, "src/main.ts", "serve"], { cwd, env: { ...env, LOG_LEVEL: "info" }, stdout: "pipe", stderr: "inherit" });
  // A bench that fails midway must not leave its gateway serving (its relaunched child exits with it).
  process.once("exit", () => serve.kill("SIGKILL"));
  const reader = serve.stdout.getReader();
  let buffered = "";
  let url = "";
  while (!url) {
    const { value, done } = await reader.read();
    if (done) throw new Error("gateway exited before listening");
    buffered += new TextDecoder().decode(value);
    url = buffered.match(/"listen":"(http:[^"]+)"/)?.[1] ?? "";
  }
  // Keep draining stdout so the gateway never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done) {}
  })();
  return {
    url,
    key,
    pid: serve.pid,
    async stop() {
      serve.kill("SIGTERM");
      // A gateway that does not drain within its grace period is killed (its relaunched child exits with it).
      const killer = setTimeout(() => serve.kill("SIGKILL"), 20_000);
      await serve.exited;
      clearTimeout(killer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** CPU time (user + system, ms) the process's main thread — its event loop — has used so far. */
export function mainThreadCpuMs(pid: number): number {
  const stat = require("node:fs").readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8") as string;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

export function rssMiB(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  return Math.round(Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024);
}

export async function addConnection(gateway: SpawnedGateway, name: string, url: string): Promise<void> {
  const response = await fetch(`${gateway.url}/api/v1/connections`, {
    method: "POST",
    headers: { authorization: `Bearer ${gateway.key}`, "content-type": "application/json" },
    // A new connection exposes nothing until its tools are picked: the bench exposes them all.
    body: JSON.stringify({ name, url, expose: "all" }),
  });
  if (response.status !== 201) throw new Error(`adding ${name} failed: ${response.status} ${await response.text()}`);
}

async function main(): Promise<void> {
  const upstream = await startUpstream({ tools: ["echo"] });
  const gateway = await spawnGateway();
  await addConnection(gateway, "bench", upstream.url);
  const direct: Client = await connectUpstream({ url: upstream.url, secret: null, allow: allowLoopback() });
  const viaGateway = await connectClient(gateway.url, gateway.key);
  const args = { message: "hello" };
  // Warm both paths (JIT, pooled upstream client) before measuring.
  await measure(4, WARMUP, () => direct.callTool({ name: "echo", arguments: args }));
  await measure(4, WARMUP, () => viaGateway.callTool({ name: "bench__echo", arguments: args }));

  const rows: string[] = [];
  for (const c of LEVELS) {
    const rounds: { d: Stats; g: Stats; cpu: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const d = await measure(c, CALLS, () => direct.callTool({ name: "echo", arguments: args }));
      const cpuBefore = mainThreadCpuMs(gateway.pid);
      const g = await measure(c, CALLS, () => viaGateway.callTool({ name: "bench__echo", arguments: args }));
      rounds.push({ d, g, cpu: (mainThreadCpuMs(gateway.pid) - cpuBefore) / CALLS });
    }
    const mid = <T>(values: T[], key: (v: T) => number): number => median(values.map(key));
    const added50 = rounds.map((x) => round(x.g.p50 - x.d.p50));
    const added99 = rounds.map((x) => round(x.g.p99 - x.d.p99));
    rows.push(
      `| ${c} | ${mid(rounds, (x) => x.d.p50)} | ${mid(rounds, (x) => x.d.p99)} | ${mid(rounds, (x) => x.d.perSecond)} | ${mid(rounds, (x) => x.g.p50)} | ${mid(rounds, (x) => x.g.p99)} | ${mid(rounds, (x) => x.g.perSecond)} | ${median(added50)} (${added50.join(" / ")}) | ${median(added99)} (${added99.join(" / ")}) | ${mid(rounds, (x) => x.cpu)} | ${rssMiB(gateway.pid)} |`,
    );
  }
  console.log(`\n## tools/call: ${CALLS} calls per run, ${ROUNDS} alternating rounds per path, median round (ms; each round's added figure in brackets)\n`);
  console.log("| concurrency | direct p50 | direct p99 | direct calls/s | gateway p50 | gateway p99 | gateway calls/s | added p50 | added p99 | gateway CPU ms/call | gateway RSS MiB |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);
  await direct.close();
  await viaGateway.close();

  // tools/list with 50 servers × 40 tools.
  const many: Upstream[] = await Promise.all(Array.from({ length: 50 }, () => startUpstream({ tools: [], extraToolCount: 40 })));
  for (const [i, u] of many.entries()) await addConnection(gateway, `srv-${i}`, u.url);
  const lister = await connectClient(gateway.url, gateway.key);
  let count = 0;
  await measure(1, 50, async () => (count = (await lister.listTools()).tools.length));
  const list = await measure(1, 500, async () => (count = (await lister.listTools()).tools.length));
  // The same list as raw HTTP (a 2025-11-25 stateless POST), without the SDK client's parsing and
  // validation of 2,000 tool definitions: the time the gateway takes to answer.
  const rawList = async (): Promise<void> => {
    const response = await fetch(`${gateway.url}/api/v1/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${gateway.key}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    await response.arrayBuffer();
  };
  await measure(1, 50, rawList);
  const raw = await measure(1, 500, rawList);
  // And with every upstream hanging: tools/list must not care.
  for (const u of many) await u.stop();
  const listDown = await measure(1, 200, async () => (count = (await lister.listTools()).tools.length));
  console.log(`\n## tools/list of ${count} tools (50 servers × 40 + 3 native), client-observed round trip (ms)\n`);
  console.log("| case | p50 | p99 | lists/s |");
  console.log("|---|---|---|---|");
  console.log(`| all upstreams up | ${list.p50} | ${list.p99} | ${list.perSecond} |`);
  console.log(`| all upstreams stopped | ${listDown.p50} | ${listDown.p99} | ${listDown.perSecond} |`);
  console.log(`| raw HTTP, no client-side parsing (upstreams up) | ${raw.p50} | ${raw.p99} | ${raw.perSecond} |`);
  console.log(`\ngateway RSS after: ${rssMiB(gateway.pid)} MiB`);
  await lister.close();
  await gateway.stop();
  await upstream.stop();
}

if (import.meta.main) await main();
