// What a queued call costs the gateway, to size the per-connection queue by memory rather than by a
// small count: the gateway (its own process, queue bounds raised out of the way) holds N calls to
// an upstream that never answers — MAX_CALLS_PER_CONNECTION in flight, the rest queued — and its
// RSS is read once /metrics shows them all queued, for each N. Loopback only; bounded in count.
//
//   bun bench/queue-depth.ts [--depths 1000,2000,4000]
import { parseArgs } from "node:util";
import type { Client } from "@modelcontextprotocol/client";
import { startFaultyUpstream } from "../test/helpers/faulty-upstream.ts";
import { api, connectClient } from "../test/helpers/client.ts";
import { spawnGateway } from "./run.ts";
import { memoryMiB } from "./peers.ts";
import { describeMachine } from "./fault-common.ts";

const { values } = parseArgs({ options: { depths: { type: "string", default: "1000,2000,4000" } } });
const depths = values.depths.split(",").map(Number);
if (!process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) {
  // Thousands of calls at once are thousands of requests from this process (Bun allows 256).
  const again = Bun.spawn([process.execPath, ...process.argv.slice(1)], { env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "16384" }, stdio: ["inherit", "inherit", "inherit"] });
  process.exit(await again.exited);
}

const upstream = await startFaultyUpstream("ok");
const gateway = await spawnGateway({ MAX_QUEUED_CALLS_PER_CONNECTION: "100000", MAX_QUEUE_WAIT_MS: "600000", PROBE_INTERVAL_MS: "3600000" });
const added = await api(gateway.url, gateway.key)("POST", "/api/v1/connections", { name: "stuck", url: upstream.url, callTimeoutMs: 600_000 });
if (added.status !== 201) throw new Error(`could not add stuck: ${JSON.stringify(added.json)}`);
const clients: Client[] = await Promise.all(Array.from({ length: 8 }, () => connectClient(gateway.url, gateway.key)));
await Promise.all(clients.map((c) => c.callTool({ name: "stuck__echo", arguments: { message: "warm" } })));
await Promise.all(Array.from({ length: 2000 }, (_, i) => clients[i % 8]!.callTool({ name: "stuck__echo", arguments: { message: "warm" } }))); // JIT, buffers
const idle = memoryMiB(gateway.pid).rss;
const progress = (text: string): void => void process.stderr.write(`${text}\n`);
progress(`warmed up; gateway RSS ${idle} MiB`);

async function queuedNow(): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  return Number(text.match(/^mcp_gateway_calls_queued\{[^}]*\} (\d+)/m)?.[1] ?? 0);
}

const rows: string[] = [];
let previous: [number, number] = [0, idle];
for (const depth of depths) {
  await upstream.setMode("hang");
  const cancel = new AbortController();
  const calls = Array.from({ length: depth }, (_, i) =>
    clients[i % clients.length]!.callTool({ name: "stuck__echo", arguments: { message: `queued ${i} ${"x".repeat(64)}` } }, { signal: cancel.signal, timeout: 600_000 }).catch(() => undefined),
  );
  const deadline = Date.now() + 60_000;
  let queued = await queuedNow();
  while (queued < depth - 32 && Date.now() < deadline) {
    progress(`queued ${queued}`);
    await Bun.sleep(1000);
    queued = await queuedNow();
  }
  const held = memoryMiB(gateway.pid).rss;
  progress(`${depth} held, ${queued} queued: RSS ${held} MiB`);
  // The cost of one more held call: the growth since the previous depth (the first is measured
  // against the gateway after warm-up, whose RSS still carries the warm-up's garbage).
  const [fromDepth, fromRss] = previous;
  rows.push(`| ${depth} | ${queued} | ${held} | ${Math.round(((held - fromRss) * 1024) / (depth - fromDepth))} |`);
  previous = [depth, held];
  cancel.abort();
  await Promise.all(calls);
  await upstream.setMode("ok");
  while ((await queuedNow()) > 0 && Date.now() < deadline + 30_000) await Bun.sleep(100);
}
await Promise.all(clients.map((c) => c.close()));
await gateway.stop();
await upstream.stop();
console.log(`machine: ${describeMachine()}

gateway RSS after warm-up: ${idle} MiB

| calls held | of them queued | gateway RSS MiB | KiB per call held since the row above |
|---|---|---|---|
${rows.join("\n")}
`);
process.exit(0);
