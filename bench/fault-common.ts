// What the fault-isolation cases share: the healthy load, percentiles, and the machine line.
import { availableParallelism, cpus } from "node:os";
import { readFileSync } from "node:fs";
import type { Client } from "@modelcontextprotocol/client";

/** A run gives up after this long, whatever its call count. */
export const RUN_LIMIT_MS = 60_000;

export type Summary = { n: number; p50: number; p90: number; p99: number; max: number };

export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

export const ms = (x: number): string => x.toFixed(2);

export function summaryRow(label: string, s: Summary): string {
  return `| ${label} | ${s.n} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.p99)} | ${ms(s.max)} |`;
}

/**
 * `calls` calls alternating between `tools`, `concurrency` at a time spread over `clients`, each
 * timed from `callTool` to its result. A healthy call that fails is a failed bench, not a sample.
 */
export async function measureHealthy(clients: Client[], tools: string[], calls: number, concurrency: number): Promise<number[]> {
  const samples: number[] = [];
  let issued = 0;
  const stopAt = performance.now() + RUN_LIMIT_MS;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const client = clients[worker % clients.length] as Client;
      while (issued < calls && performance.now() < stopAt) {
        const name = tools[issued++ % tools.length] as string;
        const t0 = performance.now();
        const result = await client.callTool({ name, arguments: { message: "ping" } });
        samples.push(performance.now() - t0);
        if (result.isError) throw new Error(`a healthy call failed: ${JSON.stringify(result.content)}`);
      }
    }),
  );
  return samples;
}

export function describeMachine(): string {
  const kernel = process.platform === "linux" ? readFileSync("/proc/sys/kernel/osrelease", "utf8").trim() : process.platform;
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), Linux ${kernel}, Bun ${Bun.version}, load average ${load}`;
}
