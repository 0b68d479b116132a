// The concurrency sweep of bench/fault-isolation.ts: `c` callers at once against ONE connection to
// a fast echo upstream, for each c; every call that does not come back with the echo is counted by
// how it failed. Calls beyond MAX_CALLS_PER_CONNECTION (32) wait in the connection's queue.
import type { Client } from "@modelcontextprotocol/client";
import { startFaultyUpstream } from "../test/helpers/faulty-upstream.ts";
import { api, connectClient } from "../test/helpers/client.ts";
import { spawnGateway } from "./run.ts";
import { describeMachine, measureHealthy, ms, RUN_LIMIT_MS, summarize } from "./fault-common.ts";

export type SweepOptions = { levels: number[]; calls: number };

type Level = { c: number; samples: number[]; ok: number; refused: number; isError: number; thrown: number; first: string[]; wallMs: number };

export async function runSweepCase(o: SweepOptions): Promise<string> {
  const upstream = await startFaultyUpstream("ok");
  const gateway = await spawnGateway();
  const added = await api(gateway.url, gateway.key)("POST", "/api/v1/connections", { name: "fast", url: upstream.url });
  if (added.status !== 201) throw new Error(`could not add fast: ${JSON.stringify(added.json)}`);
  const warm = await Promise.all(Array.from({ length: 4 }, () => connectClient(gateway.url, gateway.key)));
  await measureHealthy(warm, ["fast__echo"], 2000, 8); // warm-up: JIT, the pooled upstream client
  await Promise.all(warm.map((c) => c.close()));

  const levels: Level[] = [];
  for (const c of o.levels) {
    // One client per caller, as `c` agents would be.
    const clients = await Promise.all(Array.from({ length: c }, () => connectClient(gateway.url, gateway.key)));
    levels.push({ ...(await sweepLevel(clients, o.calls)), c });
    await Promise.all(clients.map((client) => client.close()));
  }
  await gateway.stop();
  await upstream.stop();

  const limit = process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ?? "256 (Bun's default)";
  const rows = levels.map((l) => {
    const s = summarize(l.samples);
    const errors = l.refused + l.isError + l.thrown;
    return `| ${l.c} | ${l.ok + errors} | ${errors} | ${l.refused} | ${l.isError} | ${l.thrown} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} | ${Math.round(((l.ok + errors) / l.wallMs) * 1000)} |`;
  });
  const firsts = levels.flatMap((l) => l.first.map((text) => `- c=${l.c}: ${text}`));
  return `machine: ${describeMachine()}
gateway: its own process (bun src/main.ts serve, SQLite, default MAX_CALLS_PER_CONNECTION and queue); this process's outbound limit: ${limit}
each level: ${o.calls} calls of fast__echo from c callers at once, one SDK client each (bounded to ${RUN_LIMIT_MS / 1000} s)

| c | calls | errors | refused | other isError | thrown | p50 ms | p99 ms | max ms | calls/s |
|---|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}
${firsts.length > 0 ? `\nfirst errors seen:\n${firsts.join("\n")}\n` : ""}`;
}

/** `calls` calls from `clients.length` callers at once, each its own client; failures counted by kind. */
async function sweepLevel(clients: Client[], calls: number): Promise<Omit<Level, "c">> {
  const out = { samples: [] as number[], ok: 0, refused: 0, isError: 0, thrown: 0, first: [] as string[] };
  const note = (text: string): void => {
    if (out.first.length < 3) out.first.push(text.slice(0, 200));
  };
  let issued = 0;
  const started = performance.now();
  const stopAt = started + RUN_LIMIT_MS;
  await Promise.all(
    clients.map(async (client) => {
      while (issued < calls && performance.now() < stopAt) {
        issued++;
        const t0 = performance.now();
        try {
          const result = await client.callTool({ name: "fast__echo", arguments: { message: "ping" } });
          out.samples.push(performance.now() - t0);
          const text = JSON.stringify(result.content);
          if (!result.isError) out.ok++;
          else if (/queue|in flight/.test(text)) {
            out.refused++;
            note(`refused: ${text}`);
          } else {
            out.isError++;
            note(`isError: ${text}`);
          }
        } catch (error) {
          out.thrown++;
          note(`thrown: ${String(error)}`);
        }
      }
    }),
  );
  return { ...out, wallMs: performance.now() - started };
}
