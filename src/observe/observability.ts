import type { AccessLogEntry } from "../accesslog/recorder.ts";
import type { CallTiming } from "../upstream/call-signals.ts";
import type { OutboundObserver } from "../upstream/outbound-fetch.ts";
import type { ConnectionWatch } from "./connection-watch.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { currentObservation, takeUpstreamSeconds, type Tracing } from "./request-context.ts";

/**
 * Metrics (null with METRICS=off), traces (null without an OTLP endpoint) and the watch over
 * connections that stay down. The functions below are the hooks runtime.ts hands to the parts
 * that see calls, upstream requests and access-log writes; each is undefined when nothing
 * listens, so a gateway with both off pays nothing for them.
 */
export type Observability = {
  metrics: GatewayMetrics | null;
  tracing: Tracing | null;
  connections: ConnectionWatch;
};

/**
 * Every call passes through the access log's `record()`: counted there, with its gateway-added
 * share. `timing`: the call's own tally of upstream time, when it was made through the MCP
 * endpoint (callToolInView); else, with tracing on, the MCP request's (null: not split).
 */
export function onCallRecorded(observability: Observability): ((entry: AccessLogEntry, timing?: CallTiming) => void) | undefined {
  const { metrics, tracing } = observability;
  if (!metrics && !tracing) return undefined;
  return (entry, timing) => {
    // Runs in the call's `finally`: whatever went wrong here must not change the call's answer.
    try {
      metrics?.recordCall(entry, timing ? takeSeconds(timing) : takeUpstreamSeconds());
      if (tracing) {
        const observation = currentObservation();
        if (observation) tracing.annotateCall(observation, { connection: entry.connectionName ?? null, outcome: entry.outcome });
      }
    } catch {
      // A metric not counted is the whole loss.
    }
  };
}

export function onAccessLogWrite(observability: Observability): ((seconds: number, ok: boolean) => void) | undefined {
  const { metrics } = observability;
  return metrics ? (seconds, ok) => metrics.observeAccessLogWrite(seconds, ok) : undefined;
}

/** A call's upstream seconds, taken once (a native tool's inner call takes its own first). */
function takeSeconds(timing: CallTiming): number {
  const seconds = timing.upstreamSeconds;
  timing.upstreamSeconds = 0;
  return seconds;
}

/**
 * For one connection's upstream client: each POST is timed (the histogram, and the call's upstream
 * share) and, with tracing on, gets a CLIENT span whose `traceparent` goes upstream.
 */
export function outboundObserver(observability: Observability, connection: string): OutboundObserver | undefined {
  const { metrics, tracing } = observability;
  if (!metrics && !tracing) return undefined;
  const ended = (seconds: number, timing: CallTiming | undefined): void => {
    if (timing) timing.upstreamSeconds += seconds;
    metrics?.observeUpstream(connection, seconds);
  };
  if (!tracing) return { ended };
  return {
    ended,
    start(request) {
      const observation = currentObservation();
      return { span: tracing.startOutbound(observation, { connection, ...request }), timing: observation?.timing };
    },
  };
}

/**
 * The MCP endpoint, with each request inside an observation when tracing is on: a SERVER span,
 * the context its calls' spans continue. Metrics alone need none: a call carries its own tally of
 * upstream time (callToolInView makes it, the call's tag hands it to the outbound fetch), so the
 * hot path runs in no AsyncLocalStorage of ours.
 */
export function observeMcp<E extends { handle(request: Request): Promise<Response> }>(endpoint: E, observability: Observability): E {
  const { tracing } = observability;
  if (!tracing) return endpoint;
  return { ...endpoint, handle: (request: Request) => tracing.serveRequest(request, () => endpoint.handle(request)) };
}
