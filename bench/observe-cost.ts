// `bun bench/observe-cost.ts`: what metrics and tracing cost on the hot path. Three gateways, the
// same but for METRICS=off / metrics on (the default) / metrics on and tracing to an OTLP receiver
// in this process, call one upstream's echo; rounds alternate between them, and the gateway's
// main-thread CPU per call is compared. Loopback only; every loop is bounded in count.
import type { Client } from "@modelcontextprotocol/client";
import { startUpstream } from "../test/helpers/upstream.ts";
import { connectClient } from "../test/helpers/client.ts";
import { addConnection, CALLS, mainThreadCpuMs, measure, median, ROUNDS, round, spawnGateway, WARMUP, type SpawnedGateway, type Stats } from "./run.ts";

const LEVELS = (process.env.BENCH_LEVELS ?? "1,16").split(",").map(Number);

type Variant = { name: string; env: Record<string, string>; gateway?: SpawnedGateway; client?: Client };

async function main(): Promise<void> {
  let spansReceived = 0;
  let exports = 0;
  // A collector that reads each export and counts its spans (JSON), as cheaply as it can.
  const receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const text = await request.text();
      exports++;
      spansReceived += text.split('"spanId"').length - 1;
      return Response.json({});
    },
  });
  const upstream = await startUpstream({ tools: ["echo"] });
  const variants: Variant[] = [
    { name: "METRICS=off", env: { METRICS: "off" } },
    { name: "metrics (default)", env: {} },
    {
      name: "metrics + tracing",
      // Exported every 200 ms, with room for a burst, so that spans are exported rather than dropped.
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`, OTEL_BSP_SCHEDULE_DELAY: "200", OTEL_BSP_MAX_QUEUE_SIZE: "65536", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "2048" },
    },
  ];
  for (const variant of variants) {
    variant.gateway = await spawnGateway(variant.env);
    await addConnection(variant.gateway, "bench", upstream.url);
    variant.client = await connectClient(variant.gateway.url, variant.gateway.key);
  }
  const args = { message: "hello" };
  const call = (v: Variant) => () => (v.client as Client).callTool({ name: "bench__echo", arguments: args });
  for (const v of variants) await measure(4, WARMUP, call(v));

  console.log(`\n## Cost of metrics and tracing: ${CALLS} calls per run, ${ROUNDS} rounds alternating the three gateways, median round\n`);
  console.log("| concurrency | gateway | p50 ms | p99 ms | calls/s | gateway CPU ms/call (each round) | vs METRICS=off |");
  console.log("|---|---|---|---|---|---|---|");
  for (const c of LEVELS) {
    const rounds = new Map<string, { stats: Stats; cpu: number }[]>(variants.map((v) => [v.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of variants) {
        const pid = (v.gateway as SpawnedGateway).pid;
        const before = mainThreadCpuMs(pid);
        const stats = await measure(c, CALLS, call(v));
        rounds.get(v.name)?.push({ stats, cpu: (mainThreadCpuMs(pid) - before) / CALLS });
      }
    }
    const baseline = median((rounds.get(variants[0]!.name) ?? []).map((x) => x.cpu));
    for (const v of variants) {
      const own = rounds.get(v.name) ?? [];
      const cpu = median(own.map((x) => x.cpu));
      const mid = (key: (s: Stats) => number): number => median(own.map((x) => key(x.stats)));
      const delta = round(cpu - baseline);
      console.log(`| ${c} | ${v.name} | ${mid((s) => s.p50)} | ${mid((s) => s.p99)} | ${mid((s) => s.perSecond)} | ${cpu} (${own.map((x) => round(x.cpu)).join(" / ")}) | ${v === variants[0] ? "—" : `${delta >= 0 ? "+" : ""}${delta} ms (${Math.round((delta / baseline) * 100)}%)`} |`);
    }
  }
  for (const v of variants) {
    await v.client?.close();
    await v.gateway?.stop();
  }
  await upstream.stop();
  receiver.stop(true);
  console.log(`\nOTLP receiver: ${spansReceived} spans in ${exports} exports (the traced gateway's, flushed at its shutdown).`);
}

if (import.meta.main) await main();
