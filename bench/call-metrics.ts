// `bun bench/call-metrics.ts [--baseline /work/main] [--calls 200000] [--rounds 9]`: CPU time of the
// metric updates one tools/call makes (`recordCall` and two upstream observations: a 2026 call is one
// POST, a 2025 one may add a notification), this checkout against a baseline checkout, rounds
// alternating in one process (a shared machine drifts; the median round is reported). Calls cycle
// through 3 connections × 4 tools × 2 outcomes, as a gateway's series do.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { baseline: { type: "string" }, calls: { type: "string" }, rounds: { type: "string" } } });
const CALLS = Number(values.calls ?? 200_000);
const ROUNDS = Number(values.rounds ?? 9);
const roots = { baseline: resolve(values.baseline ?? "/work/main"), this: resolve(import.meta.dir, "..") };

type Metrics = { recordCall(entry: object, upstreamSeconds: number | null): void; observeUpstream(connection: string, seconds: number): void };
type MetricsClass = new (options: { nativeTools: string[] }) => Metrics;

const entries = ["linear", "github", "gateway"].flatMap((connectionName) =>
  ["create_issue", "search", "list_items", "call_tool"].flatMap((tool) =>
    ["ok", "tool_error"].map((outcome) => ({ at: 0, workspaceId: "w", userId: "u", apiKeyId: "k", connectionName, tool, outcome, latencyMs: 12, errorSummary: null, credentialUserId: null })),
  ),
);

function round(GatewayMetrics: MetricsClass): number {
  const metrics = new GatewayMetrics({ nativeTools: ["call_tool"] });
  const started = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) {
    const entry = entries[i % entries.length]!;
    metrics.recordCall(entry, 0.004);
    metrics.observeUpstream(entry.connectionName, 0.003);
    metrics.observeUpstream(entry.connectionName, 0.001);
  }
  const used = process.cpuUsage(started);
  return ((used.user + used.system) * 1000) / CALLS; // ns per call
}

const sides: Record<string, MetricsClass> = {};
for (const [name, root] of Object.entries(roots)) sides[name] = (await import(join(root, "src/observe/metrics.ts"))).GatewayMetrics;
const results: Record<string, number[]> = {};
for (let i = 0; i <= ROUNDS; i++) {
  for (const [name, side] of Object.entries(sides)) {
    const ns = round(side);
    if (i > 0) (results[name] ??= []).push(ns); // round 0 warms up
  }
}
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
console.log(`one call's metric updates, ${CALLS.toLocaleString("en")} calls, median of ${ROUNDS} rounds (baseline: ${roots.baseline})`);
for (const [name, list] of Object.entries(results)) console.log(`${name.padEnd(9)} ${(median(list) / 1000).toFixed(2)} µs CPU per call (rounds: ${list.map((ns) => (ns / 1000).toFixed(2)).join(" ")})`);
