// Oversized answers: what calls whose upstream answers 50 MB without a Content-Length cost the
// gateway in memory. Each such answer is cut at the upstream answer cap (16 MiB); the question is
// whether many of them, one after another or at once, cost more than that.
//
//   bun bench/oversized-answers.ts [--sequential 20] [--concurrent 16] [--format json|sse]
//
// The gateway runs as its own process (bench/run.ts spawnGateway: setup, a key, serve on SQLite),
// so its memory is its own; the upstream (an SDK fixture whose `huge` tool streams 50 MB) and the
// SDK client share this process. Reported: the gateway's RSS at rest, its peak (VmHWM, which the
// kernel keeps) after the sequential calls and after the concurrent ones, and how many bytes the
// upstream wrote for each answer it was asked for. Loopback only; every loop is bounded.
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { createUpstreamHandler } from "../test/helpers/upstream.ts";
import { connectClient } from "../test/helpers/client.ts";
import { rssMiB, spawnGateway } from "./run.ts";

const { values } = parseArgs({
  options: {
    sequential: { type: "string", default: "20" },
    concurrent: { type: "string", default: "16" },
    format: { type: "string", default: "json" },
  },
});
const SEQUENTIAL = Number(values.sequential);
const CONCURRENT = Number(values.concurrent);
const FORMAT = values.format === "sse" ? "sse" : "json";
const ANSWER_BYTES = 50 * 1024 * 1024;
const CHUNK = new TextEncoder().encode("x".repeat(64 * 1024));

/** Bytes the upstream wrote per huge answer, and how many of those streams the gateway cancelled. */
const written: number[] = [];
let cancelled = 0;

const healthy = createUpstreamHandler({ name: "oversized", tools: ["echo"] });
const upstream = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 255,
  async fetch(request) {
    if (request.method === "POST") {
      const body = (await request.clone().json().catch(() => null)) as { id?: unknown; method?: string; params?: { name?: string } } | null;
      if (body?.method === "tools/call" && body.params?.name === "echo") return hugeAnswer(body.id ?? null);
    }
    return healthy.fetch(request);
  },
});

/** A well-formed JSON-RPC result whose one text block is 50 MB, streamed without a length. */
function hugeAnswer(id: unknown): Response {
  const encoder = new TextEncoder();
  const slot = written.push(0) - 1;
  const head = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":"`;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(FORMAT === "sse" ? `event: message\ndata: ${head}` : head));
    },
    pull(controller) {
      if (written[slot]! < ANSWER_BYTES) {
        controller.enqueue(CHUNK);
        written[slot]! += CHUNK.byteLength;
      } else {
        controller.enqueue(encoder.encode(FORMAT === "sse" ? `"}]}}\n\n` : `"}]}}`));
        controller.close();
      }
    },
    cancel() {
      cancelled++;
    },
  });
  return new Response(stream, { headers: { "content-type": FORMAT === "sse" ? "text/event-stream" : "application/json" } });
}

function peakMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024);
}

const gateway = await spawnGateway();
try {
  const added = await fetch(`${gateway.url}/api/v1/connections`, {
    method: "POST",
    headers: { authorization: `Bearer ${gateway.key}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "big", url: `http://127.0.0.1:${upstream.port}/mcp`, expose: "all" }),
  });
  if (added.status !== 201) throw new Error(`adding the upstream failed: ${added.status} ${await added.text()}`);
  const client = await connectClient(gateway.url, gateway.key);
  const clients = await Promise.all(Array.from({ length: CONCURRENT }, () => connectClient(gateway.url, gateway.key)));
  const oneCall = async (c: typeof client): Promise<string> => {
    const result = await c.callTool({ name: "big__echo", arguments: { message: "x" } });
    return JSON.stringify(result.content).slice(0, 120);
  };
  await Bun.sleep(1000);
  const rest = { rss: rssMiB(gateway.pid), peak: peakMiB(gateway.pid) };

  let said = "";
  const t0 = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) said = await oneCall(client);
  const sequentialMs = performance.now() - t0;
  const afterSequential = { rss: rssMiB(gateway.pid), peak: peakMiB(gateway.pid) };

  const t1 = performance.now();
  await Promise.all(clients.map((c) => oneCall(c)));
  const concurrentMs = performance.now() - t1;
  const afterConcurrent = { rss: rssMiB(gateway.pid), peak: peakMiB(gateway.pid) };
  await Bun.sleep(2000);
  const settled = rssMiB(gateway.pid);

  const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
  const sorted = [...written].sort((a, b) => a - b);
  console.log(`format: ${FORMAT}; ${SEQUENTIAL} sequential calls, then ${CONCURRENT} at once; each answer ${mib(ANSWER_BYTES)} MiB without Content-Length`);
  console.log(`what the client was told: ${said}`);
  console.log("");
  console.log("| gateway memory (MiB) | RSS | peak RSS (VmHWM) |");
  console.log("|---|---|---|");
  console.log(`| at rest, connected | ${rest.rss} | ${rest.peak} |`);
  console.log(`| after ${SEQUENTIAL} sequential (${(sequentialMs / 1000).toFixed(1)} s) | ${afterSequential.rss} | ${afterSequential.peak} |`);
  console.log(`| after ${CONCURRENT} concurrent (${(concurrentMs / 1000).toFixed(1)} s) | ${afterConcurrent.rss} | ${afterConcurrent.peak} |`);
  console.log(`| 2 s later | ${settled} | |`);
  console.log("");
  console.log(`upstream wrote per answer (MiB): min ${mib(sorted[0] ?? 0)}, median ${mib(sorted[Math.floor(sorted.length / 2)] ?? 0)}, max ${mib(sorted[sorted.length - 1] ?? 0)}; streams cancelled by the gateway: ${cancelled} of ${written.length}`);
  await Promise.all([client, ...clients].map((c) => c.close()));
} finally {
  await gateway.stop();
  await upstream.stop(true);
  await healthy.close();
}
