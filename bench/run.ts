// `bun run bench`: issue 15's side-by-side run. tools/call of an SDK echo upstream three ways, in one
// run: direct (SDK client → upstream), through the gateway, and through mcp-hub (the runnable npm
// peer), at concurrency 1, 16, 64 and 256, rounds alternating; then tools/list of 2,000 tools
// through the gateway. Upstream, gateway and mcp-hub each run as their own process (as in
// production) so the CPU and RSS read from /proc are each one's own; the clients run here.
// Loopback only; every run is bounded in count and in time. See bench/README.md, "Issue 15".
import { execSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { connectClient } from "../test/helpers/client.ts";
import { GC_RAM_SIZE } from "../src/outbound-limit.ts";
import { callLoad, type LoadRun } from "./call-load.ts";
import { runListCase } from "./list-2000.ts";
import { memoryMiB, processCpuMs, spawnEchoUpstream, spawnMcpHub, watchRss, type Peer } from "./peers.ts";

export const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const LEVELS = (process.env.BENCH_LEVELS ?? "1,16,64,256").split(",").map(Number);
/** A run stops after this long even if it has not made BENCH_CALLS calls (mcp-hub is slow). */
const RUN_MS = Number(process.env.BENCH_RUN_MS ?? 4000);
// The JIT keeps compiling the gateway's hot path for the first few thousand calls; a gateway lives
// for millions, so the steady state is what is measured.
export const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);
// The paths' runs alternate, ROUNDS of each per level, and the median round is reported:
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
  // The outbound limit and heap size set here as the gateway would set them for itself: `serve` then runs in this
  // process instead of relaunching as a child, so the PID measured below is the gateway's.
  const env = { ...process.env, DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "warn", UPSTREAM_ALLOW: "127.0.0.1", BUN_CONFIG_MAX_HTTP_REQUESTS: "4096", BUN_JSC_forceRAMSize: GC_RAM_SIZE, ...settings };
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

type Path = "direct" | "gateway" | "mcp-hub";
const PATHS: Path[] = ["direct", "gateway", "mcp-hub"];
type Measured = LoadRun & { proxyCpuUs: number | null; upstreamCpuUs: number; clientCpuUs: number };

/** CPU µs per call that process `pid` spent during `work`. */
async function withCpu(pids: { proxy: number | null; upstream: number }, work: () => Promise<LoadRun>): Promise<Measured> {
  const proxy0 = pids.proxy ? processCpuMs(pids.proxy) : 0;
  const upstream0 = processCpuMs(pids.upstream);
  const client0 = process.cpuUsage();
  const run = await work();
  const client = process.cpuUsage(client0);
  const per = (ms: number): number => Math.round((ms * 1000) / Math.max(1, run.n));
  return {
    ...run,
    proxyCpuUs: pids.proxy ? per(processCpuMs(pids.proxy) - proxy0) : null,
    upstreamCpuUs: per(processCpuMs(pids.upstream) - upstream0),
    clientCpuUs: per((client.user + client.system) / 1000),
  };
}

function machineLine(): string {
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const commit = (() => {
    try {
      return execSync("git rev-parse --short HEAD", { cwd: join(import.meta.dir, ".."), encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  })();
  const node = (() => {
    try {
      return execSync("node --version", { encoding: "utf8" }).trim();
    } catch {
      return "none";
    }
  })();
  return `nproc ${availableParallelism()}, load average ${load} (at start), Bun ${Bun.version}, Node ${node} (mcp-hub), commit ${commit}, ${new Date().toISOString()}`;
}

async function connectPlain(url: string, transport: "streamable" | "sse"): Promise<Client> {
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(transport === "sse" ? new SSEClientTransport(new URL(url)) : new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

async function main(): Promise<void> {
  // 256 callers are 256 requests at once from this process, and Bun allows 256 outbound by default
  // (the SDK client's own requests would queue behind them): run again with the limit raised.
  if (!process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) {
    const again = Bun.spawn([process.execPath, ...process.argv.slice(1)], { env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" }, stdio: ["inherit", "inherit", "inherit"] });
    process.exit(await again.exited);
  }
  const began = performance.now();
  const machine = machineLine();
  const upstream = await spawnEchoUpstream();
  const gateway = await spawnGateway();
  await addConnection(gateway, "bench", upstream.url);
  let hub: Peer | null = null;
  try {
    hub = await spawnMcpHub(upstream.url);
  } catch (error) {
    console.error(`mcp-hub did not start, its column stays empty: ${String(error)}`);
  }
  const clients: Record<Path, Client | null> = {
    direct: await connectPlain(upstream.url, "streamable"),
    gateway: await connectClient(gateway.url, gateway.key),
    "mcp-hub": hub ? await connectPlain(hub.url, "sse") : null,
  };
  const tools: Record<Path, string> = { direct: "echo", gateway: "bench__echo", "mcp-hub": "bench__echo" };
  const proxies: Record<Path, number | null> = { direct: null, gateway: gateway.pid, "mcp-hub": hub?.pid ?? null };
  const paths = PATHS.filter((p) => clients[p] !== null);
  // Warm every path (JIT, pooled upstream clients) before measuring.
  for (const p of paths) await callLoad(clients[p]!, tools[p], 4, WARMUP, 2 * RUN_MS);

  const results = new Map<string, Measured[]>();
  let gatewayRssAt64 = null as { max: number; hwm: number } | null;
  let hubRssAt64 = null as number | null;
  for (const c of LEVELS) {
    for (let r = 0; r < ROUNDS; r++) {
      // Each round starts with a different path, so none always runs first (or after another).
      for (const p of [...paths.slice(r % paths.length), ...paths.slice(0, r % paths.length)]) {
        const rss = c === 64 && proxies[p] ? watchRss(proxies[p]!) : null;
        const run = await withCpu({ proxy: proxies[p], upstream: upstream.pid }, () => callLoad(clients[p]!, tools[p], c, CALLS, RUN_MS));
        const max = rss?.stop();
        if (max !== undefined && p === "gateway") gatewayRssAt64 = { max: Math.max(max, gatewayRssAt64?.max ?? 0), hwm: memoryMiB(gateway.pid).hwm };
        if (max !== undefined && p === "mcp-hub") hubRssAt64 = Math.max(max, hubRssAt64 ?? 0);
        if (run.firstError) console.error(`c=${c} ${p}: ${run.errors} errors, ${run.refused} refused; first: ${run.firstError}`);
        results.set(`${c} ${p}`, [...(results.get(`${c} ${p}`) ?? []), run]);
      }
    }
  }
  for (const client of Object.values(clients)) await client?.close().catch(() => undefined);

  const mid = (c: number, p: Path, key: (m: Measured) => number | null): number | null => {
    const values = (results.get(`${c} ${p}`) ?? []).map(key).filter((v): v is number => v !== null && !Number.isNaN(v));
    return values.length ? median(values) : null;
  };
  const sum = (c: number, p: Path, key: (m: Measured) => number): number => (results.get(`${c} ${p}`) ?? []).reduce((a, m) => a + key(m), 0);
  const show = (v: number | null): string => (v === null ? "–" : String(v));
  const ratio = (a: number | null, b: number | null): string => (a === null || b === null || b === 0 ? "–" : `${round(a / b)}×`);
  const lines: string[] = [];
  lines.push(`\n#### tools/call of an SDK echo upstream: direct, the gateway, mcp-hub\n`);
  lines.push(`machine: ${machine}`);
  lines.push(`each run: ${CALLS} calls or ${RUN_MS / 1000} s, whichever ends first; ${ROUNDS} rounds per path and level, paths alternating; median round shown (errors and refused: all rounds summed); warm-up ${WARMUP} calls per path\n`);
  lines.push("| c | path | calls/s | p50 ms | p99 ms | calls | errors | refused | proxy CPU µs/call | upstream CPU µs/call | client CPU µs/call |");
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const c of LEVELS) {
    for (const p of paths) {
      lines.push(
        `| ${c} | ${p} | ${show(mid(c, p, (m) => m.perSecond))} | ${show(mid(c, p, (m) => m.p50))} | ${show(mid(c, p, (m) => m.p99))} | ${sum(c, p, (m) => m.n)} | ${sum(c, p, (m) => m.errors)} | ${sum(c, p, (m) => m.refused)} | ${show(mid(c, p, (m) => m.proxyCpuUs))} | ${show(mid(c, p, (m) => m.upstreamCpuUs))} | ${show(mid(c, p, (m) => m.clientCpuUs))} |`,
      );
    }
  }
  lines.push("\n| c | gateway ÷ direct (calls/s) | gateway ÷ mcp-hub (calls/s) | mcp-hub ÷ direct | gateway added p50 ms | mcp-hub added p50 ms |");
  lines.push("|---|---|---|---|---|---|");
  for (const c of LEVELS) {
    const rate = (p: Path): number | null => mid(c, p, (m) => m.perSecond);
    const added = (p: Path): string => {
      const a = mid(c, p, (m) => m.p50);
      const d = mid(c, "direct", (m) => m.p50);
      return a === null || d === null ? "–" : String(round(a - d));
    };
    lines.push(`| ${c} | ${ratio(rate("gateway"), rate("direct"))} | ${ratio(rate("gateway"), rate("mcp-hub"))} | ${ratio(rate("mcp-hub"), rate("direct"))} | ${added("gateway")} | ${added("mcp-hub")} |`);
  }
  const at64 = gatewayRssAt64 ? `${gatewayRssAt64.max} MiB (largest VmRSS sampled every 50 ms during c=64; VmHWM after c=64: ${gatewayRssAt64.hwm} MiB)` : "– (c=64 not run)";
  lines.push(`\ngateway RSS at c=64: ${at64}${hubRssAt64 !== null ? `; mcp-hub's: ${hubRssAt64} MiB` : ""}`);
  console.log(lines.join("\n"));

  if (hub) await hub.stop();
  console.log(await runListCase(gateway, (name, url) => addConnection(gateway, name, url), 2 * RUN_MS));
  console.log(`gateway RSS after: ${rssMiB(gateway.pid)} MiB; whole run took ${Math.round((performance.now() - began) / 1000)} s`);
  await gateway.stop();
  await upstream.stop();
}

if (import.meta.main) await main();
