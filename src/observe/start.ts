import type { Clock } from "../clock.ts";
import type { CoreDeps } from "../deps.ts";
import { ConnectionWatch } from "./connection-watch.ts";
import { GatewayMetrics } from "./metrics.ts";
import type { Observability } from "./observability.ts";
import { startTracing } from "./tracing.ts";

/** Metrics unless METRICS=off, tracing when an OTLP endpoint is set (loaded only then), and the connection watch. */
export async function startObservability(core: CoreDeps, options: { clock: Clock; nativeTools: string[] }): Promise<Observability> {
  const { config, database, log } = core;
  const metrics = config.observe.metricsEnabled ? new GatewayMetrics({ nativeTools: options.nativeTools }) : null;
  const tracing = await startTracing(config.observe.tracing, log, database.dialect);
  const connections = new ConnectionWatch({ database, log, now: options.clock, warnAfterMs: config.observe.connectionDownWarnMs, waitMs: config.databaseWaitMs || 5000 });
  return { metrics, tracing, connections };
}
