import type { AccessLogEntry } from "../accesslog/recorder.ts";
import type { OutboundObserver } from "../upstream/outbound-fetch.ts";
import type { ConnectionWatch } from "./connection-watch.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { currentObservation, observing, takeUpstreamSeconds, type Tracing } from "./request-context.ts";

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

/** Every call passes through the access log's `record()`: counted there, with its gateway-added share. */
export function onCallRecorded(observability: Observability): ((entry: AccessLogEntry) => void) | undefined {
  const { metrics, tracing } = observability;
  if (!metrics && !tracing) return undefined;
  return (entry) => {
    // Runs in the call's `finally`: whatever went wrong here must not change the call's answer.
    try {
      metrics?.recordCall(entry, takeUpstreamSeconds());
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

/**
 * For one connection's upstream client: each POST is timed (the histogram, and the MCP request's
 * upstream share) and, with tracing on, gets a CLIENT span whose `traceparent` goes upstream.
 */
export function outboundObserver(observability: Observability, connection: string): OutboundObserver | undefined {
  const { metrics, tracing } = observability;
  if (!metrics && !tracing) return undefined;
  return (request) => {
    const observation = currentObservation();
    const span = tracing?.startOutbound(observation, { connection, ...request });
    const started = performance.now();
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      const seconds = (performance.now() - started) / 1000;
      if (observation) observation.timing.upstreamSeconds += seconds;
      metrics?.observeUpstream(connection, seconds);
      span?.end(outcome);
    };
  };
}

/**
 * The MCP endpoint, with each request inside an observation: a SERVER span when tracing is on,
 * and the tally of upstream time that lets a call's gateway-added latency be told apart.
 */
export function observeMcp<E extends { handle(request: Request): Promise<Response> }>(endpoint: E, observability: Observability): E {
  const { metrics, tracing } = observability;
  if (!metrics && !tracing) return endpoint;
  const handle = tracing
    ? (request: Request) => tracing.serveRequest(request, () => endpoint.handle(request))
    : (request: Request) => observing({ tracing: null, context: null, requestParent: null, timing: { upstreamSeconds: 0 } }, () => endpoint.handle(request));
  return { ...endpoint, handle };
}
