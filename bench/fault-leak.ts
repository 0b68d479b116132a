// The leaked-socket case of bench/fault-isolation.ts: calls to two healthy upstreams, before and
// after `ended` calls to a hanging third one have ended (cancelled by the client, or timed out),
// and how many of those requests the hanging upstream still holds open.
import type { Client } from "@modelcontextprotocol/client";
import { startFaultyUpstream } from "../test/helpers/faulty-upstream.ts";
import { startLoadUpstream, type LoadUpstream } from "../test/helpers/load-upstream.ts";
import { api, connectClient } from "../test/helpers/client.ts";
import { waitFor } from "../test/helpers/wait.ts";
import { spawnGateway } from "./run.ts";
import { describeMachine, measureHealthy, ms, quantile, summarize, summaryRow } from "./fault-common.ts";

export type LeakOptions = {
  /** Calls to the hanging upstream that end before each faulty run. */
  ended: number;
  /** The revision the gateway speaks to the hanging upstream: on 2025 the SDK alone left the POST open. */
  era: "2025" | "2026";
  /** How they end: the client's AbortSignal, or the connection's own timeout (`timeoutMs`). */
  endBy: "cancel" | "timeout";
  /** The stuck connection's callTimeoutMs (the JSON API's minimum is 1000). */
  timeoutMs: number;
  /** Calls sent to the hanging upstream at once; below MAX_CALLS_PER_CONNECTION (32), so none queue. */
  batch: number;
  calls: number;
  concurrency: number;
  rounds: number;
};

/** How long the hanging upstream gets to see the last requests let go before they count as held. */
const SETTLE_MS = 2000;

type Ending = { reached: number; heldAtEnd: number; heldAfterSettle: number; settleMs: number; outcomes: Record<string, number> };

export async function runLeakCase(o: LeakOptions): Promise<string> {
  // The real program, which raises its own outbound limit. Timeouts count against a connection's
  // health: with the defaults `stuck` would be paused after a few, and its later calls would fail
  // without reaching it. This case is about what reaches it, so the pause is kept out of the way.
  const gateway = await spawnGateway({ PAUSE_AFTER_FAILURES: "1000", PAUSE_FAILURE_SPAN_MS: "3600000", HEALTH_MIN_CALLS: "100000" });
  const [alpha, beta] = await Promise.all([startFaultyUpstream("ok"), startFaultyUpstream("ok")]);
  if (!alpha || !beta) throw new Error("upstreams did not start");
  // Counts the tools/call requests it holds open; era 2025 refuses server/discover.
  const stuck = await startLoadUpstream({ era: o.era });
  const call = api(gateway.url, gateway.key);
  for (const [name, upstream, extra] of [
    ["alpha", alpha, {}],
    ["beta", beta, {}],
    ["stuck", stuck, { callTimeoutMs: o.timeoutMs }],
  ] as const) {
    const added = await call("POST", "/api/v1/connections", { name, url: upstream.url, ...extra });
    if (added.status !== 201) throw new Error(`could not add ${name}: ${JSON.stringify(added.json)}`);
  }
  const clients: Client[] = await Promise.all(Array.from({ length: 4 }, () => connectClient(gateway.url, gateway.key)));
  const stuckClient = await connectClient(gateway.url, gateway.key);
  // The gateway holds a client for stuck before it hangs: what hangs is its calls, not a handshake.
  await stuckClient.callTool({ name: "stuck__echo", arguments: { message: "warm" } });
  await checkHangCounter(stuck);

  const healthy = ["alpha__echo", "beta__echo"];
  await measureHealthy(clients, healthy, o.calls, o.concurrency); // warm-up
  const clean: number[] = [];
  const faulty: number[] = [];
  const rows: string[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < o.rounds; round++) {
    const faultSide = async (): Promise<{ samples: number[]; ending: Ending }> => {
      stuck.mode = { kind: "hang" };
      const ending = await endCalls(stuckClient, stuck, o);
      // stuck still hangs (and holds whatever was not let go) while the healthy calls run.
      const samples = await measureHealthy(clients, healthy, o.calls, o.concurrency);
      stuck.mode = { kind: "ok" };
      return { samples, ending };
    };
    let a: number[];
    let b: { samples: number[]; ending: Ending };
    // ABBA order: neither side always runs first.
    if (round % 2 === 0) {
      a = await measureHealthy(clients, healthy, o.calls, o.concurrency);
      b = await faultSide();
    } else {
      b = await faultSide();
      a = await measureHealthy(clients, healthy, o.calls, o.concurrency);
    }
    clean.push(...a);
    faulty.push(...b.samples);
    const ratio = summarize(b.samples).p99 / summarize(a).p99;
    ratios.push(ratio);
    const e = b.ending;
    const outcomes = Object.entries(e.outcomes)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ");
    const row = `| ${round + 1} | ${ms(summarize(a).p99)} | ${ms(summarize(b.samples).p99)} | ${ratio.toFixed(2)} | ${e.reached} | ${e.heldAtEnd} | ${e.heldAfterSettle} (${Math.round(e.settleMs)} ms) | ${outcomes} |`;
    process.stderr.write(`${row}\n`); // progress, in case a run does not finish
    rows.push(row);
  }

  const status = (await call("GET", "/api/v1/connections")).json.connections as { name: string; status: string }[];
  await Promise.all([...clients, stuckClient].map((c) => c.close()));
  await gateway.stop();
  await Promise.all([alpha, beta, stuck].map((u) => u.stop()));

  const c = summarize(clean);
  const f = summarize(faulty);
  const how = o.endBy === "cancel" ? "cancelled by the client (AbortSignal) once stuck holds the whole batch" : `ended by stuck's callTimeoutMs of ${o.timeoutMs} ms`;
  return `machine: ${describeMachine()}
gateway: its own process (bun src/main.ts serve, SQLite; it raises its own outbound limit), PAUSE_AFTER_FAILURES=1000 PAUSE_FAILURE_SPAN_MS=3600000 HEALTH_MIN_CALLS=100000
runs: ${o.rounds} clean + ${o.rounds} faulty (ABBA), ${o.calls} calls each to alpha/beta (alternating), concurrency ${o.concurrency}, 4 clients
fault: stuck (an SDK upstream the gateway speaks ${o.era === "2025" ? "2025-11-25" : "2026-07-28"} to) hangs; before each faulty run ${o.ended} calls to it, ${o.batch} at a time, ${how}; stuck keeps hanging through the run
stuck's status afterwards: ${status.find((s) => s.name === "stuck")?.status}

| calls to alpha/beta (ms) | n | p50 | p90 | p99 | max |
|---|---|---|---|---|---|
${summaryRow("no fault", c)}
${summaryRow(`after ${o.ended} ended calls to stuck`, f)}

p99 with the fault / without: ${(f.p99 / c.p99).toFixed(3)} over all runs, ${quantile([...ratios].sort((x, y) => x - y), 0.5).toFixed(3)} as the median of the rounds' ratios (goal: at most 1.20)

| round | p99 no fault | p99 after | ratio | calls that reached stuck | requests stuck held when the last call ended | held after ≤ ${SETTLE_MS} ms | how the calls ended |
|---|---|---|---|---|---|---|---|
${rows.join("\n")}
`;
}

/**
 * Sends `ended` calls to the hanging upstream, `batch` at a time; each batch is let go (cancelled,
 * or left to time out) only once the upstream holds all of it, so every call did reach it.
 */
async function endCalls(client: Client, stuck: LoadUpstream, o: LeakOptions): Promise<Ending> {
  const toolCalls = (): number => stuck.toolCalls;
  const before = toolCalls();
  const outcomes: Record<string, number> = {};
  for (let sent = 0; sent < o.ended; sent += o.batch) {
    const size = Math.min(o.batch, o.ended - sent);
    const cancel = new AbortController();
    const arrivedBefore = toolCalls();
    const calls = Array.from({ length: size }, () =>
      client
        .callTool({ name: "stuck__echo", arguments: { message: "never" } }, { timeout: 600_000, ...(o.endBy === "cancel" ? { signal: cancel.signal } : {}) })
        .then(
          (result) => (result.isError ? "isError" : "answered"),
          (error: unknown) => `thrown ${(error as Error).name}`,
        )
        .then((outcome) => {
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        }),
    );
    await waitFor(() => toolCalls() - arrivedBefore >= size, { timeoutMs: 10_000, what: `${size} calls to reach stuck` });
    if (o.endBy === "cancel") cancel.abort();
    await Promise.all(calls);
  }
  const heldAtEnd = stuck.hanging;
  const t0 = performance.now();
  await waitFor(() => stuck.hanging === 0, { timeoutMs: SETTLE_MS }).catch(() => undefined);
  return { reached: toolCalls() - before, heldAtEnd, heldAfterSettle: stuck.hanging, settleMs: performance.now() - t0, outcomes };
}

/** Positive control: the hanging upstream's count does fall when a client aborts a request it holds. */
async function checkHangCounter(stuck: LoadUpstream): Promise<void> {
  stuck.mode = { kind: "hang" };
  const abort = new AbortController();
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { message: "control" } } });
  const request = fetch(stuck.url, { method: "POST", body, headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, signal: abort.signal }).catch(() => undefined);
  await waitFor(() => stuck.hanging === 1, { what: "the control request to be held" });
  abort.abort();
  await request;
  await waitFor(() => stuck.hanging === 0, { what: "the control request to be let go (request.signal)" });
  stuck.mode = { kind: "ok" };
}
