// `bun bench/observe-hooks.ts`: what the metric hooks of one call cost by themselves, in this
// process: the counter and histograms a call updates, and entering the per-request observation
// (AsyncLocalStorage). Bounded loops, nothing on the network.
import { GatewayMetrics } from "../src/observe/metrics.ts";
import { observing, takeUpstreamSeconds } from "../src/observe/request-context.ts";
import type { AccessLogEntry } from "../src/accesslog/recorder.ts";

const N = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const metrics = new GatewayMetrics({ nativeTools: ["call_tool"] });
const entry: AccessLogEntry = { at: 0, workspaceId: "w", userId: "u", apiKeyId: "k", connectionName: "bench", tool: "echo", outcome: "ok", latencyMs: 2, errorSummary: null, credentialUserId: null };

function perIteration(started: number): string {
  return ((performance.now() - started) * 1000 / N).toFixed(2);
}

let started = performance.now();
for (let i = 0; i < N; i++) {
  metrics.recordCall(entry, 0.001);
  // A call's upstream requests (a 2026 call is one POST; a 2025 one may add a notification).
  metrics.observeUpstream("bench", 0.001);
  metrics.observeUpstream("bench", 0.001);
}
console.log(`one call's metric updates: ${perIteration(started)} µs`);

started = performance.now();
for (let i = 0; i < N; i++) {
  await observing({ tracing: null, context: null, requestParent: null, timing: { upstreamSeconds: 0 } }, async () => {
    await null;
    await null;
    takeUpstreamSeconds();
  });
}
console.log(`an async request inside an observation: ${perIteration(started)} µs`);

started = performance.now();
for (let i = 0; i < N; i++) {
  await (async () => {
    await null;
    await null;
  })();
}
console.log(`the same without one: ${perIteration(started)} µs`);
