// Fault isolation: the latency of calls to two healthy upstreams, with and without a third upstream
// that hangs (accepts every request and never answers) while calls to it are kept waiting.
//
//   bun bench/fault-isolation.ts [--calls 1500] [--concurrency 8] [--hung 16] [--rounds 4]
//
// One process holds everything: a gateway (test helper, SQLite), three SDK fixture upstreams and
// the real SDK clients. Runs alternate after an untimed warm-up, in ABBA order (clean, faulty,
// faulty, clean, …), so drift on a shared machine falls on both sides. Bounded: `calls` per run,
// `rounds` pairs of runs, and each run gives up after 60 s.
import { availableParallelism, cpus } from "node:os";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Client } from "@modelcontextprotocol/client";
import { seedOwner, startTestGateway } from "../test/helpers/gateway.ts";
import { startFaultyUpstream } from "../test/helpers/faulty-upstream.ts";
import { api, connectClient } from "../test/helpers/client.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "1500" },
    concurrency: { type: "string", default: "8" },
    hung: { type: "string", default: "16" },
    rounds: { type: "string", default: "4" },
  },
});
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const HUNG = Number(values.hung);
const ROUNDS = Number(values.rounds);
const RUN_LIMIT_MS = 60_000;

const gateway = await startTestGateway({ env: { LOG_LEVEL: "warn" } });
const upstreams = await Promise.all([startFaultyUpstream("ok"), startFaultyUpstream("ok"), startFaultyUpstream("ok")]);
const { key } = await seedOwner(gateway);
const call = api(gateway.url, key);
for (const [i, name] of ["alpha", "beta", "stuck"].entries()) {
  const added = await call("POST", "/api/v1/connections", { name, url: upstreams[i]!.url });
  if (added.status !== 201) throw new Error(`could not add ${name}: ${JSON.stringify(added.json)}`);
}
// A few clients, as several agents would be; each sends its calls over its own connections.
const clients: Client[] = await Promise.all(Array.from({ length: 4 }, () => connectClient(gateway.url, key)));
const stuckClient = await connectClient(gateway.url, key);
// The gateway holds a client for stuck before it hangs: what hangs is its calls, not a handshake
// (a hung handshake ends at 15 s, and its waiting calls with it, and then stuck is paused).
await stuckClient.callTool({ name: "stuck__echo", arguments: { message: "warm" } });

/** `CALLS` calls alternating between the two healthy upstreams, `CONCURRENCY` at a time. */
async function measure(): Promise<number[]> {
  const samples: number[] = [];
  let issued = 0;
  const stopAt = performance.now() + RUN_LIMIT_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      const client = clients[worker % clients.length]!;
      while (issued < CALLS && performance.now() < stopAt) {
        const name = issued++ % 2 === 0 ? "alpha__echo" : "beta__echo";
        const t0 = performance.now();
        const result = await client.callTool({ name, arguments: { message: "ping" } });
        samples.push(performance.now() - t0);
        if (result.isError) throw new Error(`a healthy call failed: ${JSON.stringify(result.content)}`);
      }
    }),
  );
  return samples;
}

/** Hangs the third upstream and keeps `HUNG` calls waiting on it while `measure` runs. */
async function measureWithFault(): Promise<{ samples: number[]; waiting: number }> {
  await upstreams[2]!.setMode("hang");
  const cancel = new AbortController();
  let waiting = 0;
  const hung = Array.from({ length: HUNG }, () => {
    waiting++;
    return stuckClient
      .callTool({ name: "stuck__echo", arguments: { message: "never" } }, { signal: cancel.signal, timeout: 600_000 })
      .catch(() => undefined)
      .finally(() => waiting--);
  });
  await Bun.sleep(100);
  const samples = await measure();
  const stillWaiting = waiting;
  cancel.abort();
  await Promise.all(hung);
  await upstreams[2]!.setMode("ok");
  return { samples, waiting: stillWaiting };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

type Summary = { n: number; p50: number; p90: number; p99: number; max: number };
function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1]! };
}

await measure(); // warm-up: JIT, pooled upstream clients, database pages
const clean: number[] = [];
const faulty: number[] = [];
const perRound: string[] = [];
const ratios: number[] = [];
let minWaiting = Number.POSITIVE_INFINITY;
for (let round = 0; round < ROUNDS; round++) {
  // ABBA order: neither side always runs first (after a warm-up, or after the other's clean-up).
  let a: number[];
  let b: { samples: number[]; waiting: number };
  if (round % 2 === 0) {
    a = await measure();
    b = await measureWithFault();
  } else {
    b = await measureWithFault();
    a = await measure();
  }
  clean.push(...a);
  faulty.push(...b.samples);
  minWaiting = Math.min(minWaiting, b.waiting);
  const ratio = summarize(b.samples).p99 / summarize(a).p99;
  ratios.push(ratio);
  perRound.push(`| ${round + 1} | ${summarize(a).p99.toFixed(2)} | ${summarize(b.samples).p99.toFixed(2)} | ${ratio.toFixed(2)} |`);
}

const status = (await call("GET", "/api/v1/connections")).json.connections as { name: string; status: string }[];
await Promise.all([...clients, stuckClient].map((c) => c.close()));
await gateway.stop();
await Promise.all(upstreams.map((u) => u.stop()));

const c = summarize(clean);
const f = summarize(faulty);
const ms = (x: number): string => x.toFixed(2);
const machine = `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), Linux ${process.platform === "linux" ? readFileSync("/proc/sys/kernel/osrelease", "utf8").trim() : process.platform}, Bun ${Bun.version}, load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`;
process.stdout.write(`machine: ${machine}
runs: ${ROUNDS} clean + ${ROUNDS} faulty, ${CALLS} calls each to alpha/beta (alternating), concurrency ${CONCURRENCY}, 4 clients
fault: stuck hangs, with ${HUNG} calls to it waiting throughout (at least ${minWaiting} still waiting at the end of every faulty run)
stuck's status afterwards: ${status.find((s) => s.name === "stuck")?.status}

| calls to alpha/beta (ms) | n | p50 | p90 | p99 | max |
|---|---|---|---|---|---|
| no fault | ${c.n} | ${ms(c.p50)} | ${ms(c.p90)} | ${ms(c.p99)} | ${ms(c.max)} |
| stuck hangs | ${f.n} | ${ms(f.p50)} | ${ms(f.p90)} | ${ms(f.p99)} | ${ms(f.max)} |

p99 with the fault / without: ${(f.p99 / c.p99).toFixed(3)} over all runs, ${quantile([...ratios].sort((x, y) => x - y), 0.5).toFixed(3)} as the median of the rounds' ratios (goal: at most 1.20)

| round | p99 no fault | p99 stuck hangs | ratio |
|---|---|---|---|
${perRound.join("\n")}
`);
process.exit(0);
