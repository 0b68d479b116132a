// Fault isolation: does one upstream's fault cost the others? Three cases, picked with --case:
//
//   isolation  the latency of calls to two healthy upstreams, with and without a third upstream
//              that hangs (accepts every request and never answers) while calls to it are kept waiting
//   leak       the same healthy calls before and after `--ended` calls to the hanging upstream have
//              ended (cancelled by the client, or timed out), and how many of those requests the
//              hanging upstream still holds open
//   sweep      errors and latency of c callers at once against ONE connection, c = --levels
//
//   bun bench/fault-isolation.ts [--case isolation|leak|sweep|all] [--calls 1500] [--concurrency 8] [--rounds 4]
//                                [--hung 16]                                          (isolation)
//                                [--ended 500] [--end-by cancel|timeout] [--era 2025|2026] [--batch 25] (leak)
//                                [--levels 16,64,256] [--sweep-calls 3000]            (sweep)
//   BUN_CONFIG_MAX_HTTP_REQUESTS=4096 bun bench/fault-isolation.ts --case sweep
//     (256 callers are 256 requests at once from this process: Bun's default outbound limit)
//
// isolation: one process holds everything: a gateway (test helper, SQLite), three SDK fixture
// upstreams and the real SDK clients. leak and sweep run the gateway as its own process (`serve`,
// which raises its own outbound limit), as an operator does, with the upstreams and clients here.
// Runs alternate after an untimed warm-up, in ABBA order (clean, faulty, faulty, clean, …), so
// drift on a shared machine falls on both sides. Bounded: `calls` per run, `rounds` pairs of runs,
// and each run gives up after 60 s. Loopback only.
import { parseArgs } from "node:util";
import type { Client } from "@modelcontextprotocol/client";
import { seedOwner, startTestGateway } from "../test/helpers/gateway.ts";
import { startFaultyUpstream } from "../test/helpers/faulty-upstream.ts";
import { api, connectClient } from "../test/helpers/client.ts";
import { describeMachine, measureHealthy, ms, quantile, summarize, summaryRow } from "./fault-common.ts";
import { runLeakCase } from "./fault-leak.ts";
import { runSweepCase } from "./fault-sweep.ts";

const { values } = parseArgs({
  options: {
    case: { type: "string", default: "isolation" },
    calls: { type: "string", default: "1500" },
    concurrency: { type: "string", default: "8" },
    hung: { type: "string", default: "16" },
    rounds: { type: "string", default: "4" },
    ended: { type: "string", default: "500" },
    "end-by": { type: "string", default: "cancel" },
    era: { type: "string", default: "2025" },
    batch: { type: "string", default: "25" },
    "timeout-ms": { type: "string", default: "1000" },
    levels: { type: "string", default: "16,64,256" },
    "sweep-calls": { type: "string", default: "3000" },
  },
});
const CASES = ["isolation", "leak", "sweep"] as const;
const picked = values.case === "all" ? [...CASES] : CASES.filter((c) => c === values.case);
if (picked.length === 0) throw new Error(`--case must be one of ${CASES.join(", ")} or all, got "${values.case}"`);
const endBy = values["end-by"];
if (endBy !== "cancel" && endBy !== "timeout") throw new Error(`--end-by must be cancel or timeout, got "${endBy}"`);
const era = values.era;
if (era !== "2025" && era !== "2026") throw new Error(`--era must be 2025 or 2026, got "${era}"`);
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const HUNG = Number(values.hung);

for (const which of picked) {
  process.stdout.write(`\n## ${which}\n\n`);
  if (which === "isolation") process.stdout.write(await runIsolationCase());
  if (which === "leak") {
    const batch = Math.max(1, Math.min(Number(values.batch), 32));
    process.stdout.write(await runLeakCase({ ended: Number(values.ended), endBy, era, timeoutMs: Number(values["timeout-ms"]), batch, calls: CALLS, concurrency: CONCURRENCY, rounds: ROUNDS }));
  }
  if (which === "sweep") process.stdout.write(await runSweepCase({ levels: values.levels.split(",").map(Number), calls: Number(values["sweep-calls"]) }));
}
process.exit(0);

async function runIsolationCase(): Promise<string> {
  const gateway = await startTestGateway({ env: { LOG_LEVEL: "warn" } });
  const upstreams = await Promise.all([startFaultyUpstream("ok"), startFaultyUpstream("ok"), startFaultyUpstream("ok")]);
  const stuck = upstreams[2];
  if (!stuck) throw new Error("upstreams did not start");
  const { key } = await seedOwner(gateway);
  const call = api(gateway.url, key);
  for (const [i, name] of ["alpha", "beta", "stuck"].entries()) {
    const added = await call("POST", "/api/v1/connections", { name, url: upstreams[i]?.url });
    if (added.status !== 201) throw new Error(`could not add ${name}: ${JSON.stringify(added.json)}`);
  }
  // A few clients, as several agents would be; each sends its calls over its own connections.
  const clients: Client[] = await Promise.all(Array.from({ length: 4 }, () => connectClient(gateway.url, key)));
  const stuckClient = await connectClient(gateway.url, key);
  // The gateway holds a client for stuck before it hangs: what hangs is its calls, not a handshake
  // (a hung handshake ends at 15 s, and its waiting calls with it, and then stuck is paused).
  await stuckClient.callTool({ name: "stuck__echo", arguments: { message: "warm" } });
  const healthy = ["alpha__echo", "beta__echo"];
  const measure = (): Promise<number[]> => measureHealthy(clients, healthy, CALLS, CONCURRENCY);

  /** Hangs the third upstream and keeps `HUNG` calls waiting on it while `measure` runs. */
  async function measureWithFault(): Promise<{ samples: number[]; waiting: number }> {
    await stuck?.setMode("hang");
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
    await stuck?.setMode("ok");
    return { samples, waiting: stillWaiting };
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
    perRound.push(`| ${round + 1} | ${ms(summarize(a).p99)} | ${ms(summarize(b.samples).p99)} | ${ratio.toFixed(2)} |`);
  }

  const status = (await call("GET", "/api/v1/connections")).json.connections as { name: string; status: string }[];
  await Promise.all([...clients, stuckClient].map((c) => c.close()));
  await gateway.stop();
  await Promise.all(upstreams.map((u) => u.stop()));

  const c = summarize(clean);
  const f = summarize(faulty);
  return `machine: ${describeMachine()}
runs: ${ROUNDS} clean + ${ROUNDS} faulty, ${CALLS} calls each to alpha/beta (alternating), concurrency ${CONCURRENCY}, 4 clients
fault: stuck hangs, with ${HUNG} calls to it waiting throughout (at least ${minWaiting} still waiting at the end of every faulty run)
stuck's status afterwards: ${status.find((s) => s.name === "stuck")?.status}

| calls to alpha/beta (ms) | n | p50 | p90 | p99 | max |
|---|---|---|---|---|---|
${summaryRow("no fault", c)}
${summaryRow("stuck hangs", f)}

p99 with the fault / without: ${(f.p99 / c.p99).toFixed(3)} over all runs, ${quantile([...ratios].sort((x, y) => x - y), 0.5).toFixed(3)} as the median of the rounds' ratios (goal: at most 1.20)

| round | p99 no fault | p99 stuck hangs | ratio |
|---|---|---|---|
${perRound.join("\n")}
`;
}
