import { AsyncLocalStorage } from "node:async_hooks";

/**
 * What one MCP request carries through the gateway for traces: the span it is in, and the time its
 * upstream requests took (for a call that carries no tally of its own: see call-signals.ts
 * CallTiming, which metrics use). Kept in an AsyncLocalStorage so that spans pass nothing new
 * through the SDK; only with tracing on does a request enter one.
 */
export type Observation = {
  tracing: Tracing | null;
  /** The OpenTelemetry context of the innermost span (opaque here: only tracing.ts reads it). */
  context: unknown;
  /** The `traceparent` header the HTTP request came with, if any. */
  requestParent: string | null;
  /** Shared by every span of the request: seconds spent on upstream answers not yet counted by a call. */
  timing: { upstreamSeconds: number };
};

const store = new AsyncLocalStorage<Observation>();

export function observing<T>(observation: Observation, fn: () => T): T {
  return store.run(observation, fn);
}

export function currentObservation(): Observation | undefined {
  return store.getStore();
}

/** Upstream seconds since the last call took them; a call takes them once, when it is recorded. */
export function takeUpstreamSeconds(): number | null {
  const observation = store.getStore();
  if (!observation) return null;
  const seconds = observation.timing.upstreamSeconds;
  observation.timing.upstreamSeconds = 0;
  return seconds;
}

/**
 * `_meta` for a request sent upstream inside a span: `{ traceparent }` (MCP's trace-context
 * convention, beside the HTTP header the outbound fetch sends), or nothing when tracing is off.
 */
export function traceMeta(): { _meta: { traceparent: string } } | Record<string, never> {
  const observation = store.getStore();
  const traceparent = observation?.tracing?.traceparentOf(observation);
  return traceparent ? { _meta: { traceparent } } : {};
}

/**
 * Runs one routed tools/call inside its own span (tracing on), continuing the client's
 * `params._meta.traceparent` when it names another parent than the HTTP request did.
 */
export function inCallSpan<T>(tool: string, meta: Record<string, unknown> | undefined, fn: () => Promise<T>): Promise<T> {
  const observation = store.getStore();
  if (!observation?.tracing) return fn();
  return observation.tracing.callSpan(observation, tool, meta?.traceparent, fn);
}

/** An upstream HTTP request's span: ended with the status, or the error, when its answer has been read. */
export type OutboundSpan = { end(outcome: { status?: number; error?: unknown }): void };

/** Spans, when OTEL_EXPORTER_OTLP_ENDPOINT is set (see tracing.ts, which alone loads OpenTelemetry). */
export type Tracing = {
  /** Runs `serve` in a SERVER span for one HTTP request to the MCP endpoint, continuing its `traceparent`. */
  serveRequest(request: Request, serve: () => Promise<Response>): Promise<Response>;
  callSpan<T>(observation: Observation, tool: string, metaTraceparent: unknown, fn: () => Promise<T>): Promise<T>;
  /** The W3C `traceparent` of the observation's current span, if it is sampled into a trace. */
  traceparentOf(observation: Observation): string | undefined;
  /** Notes what the call came to on the span it runs in. */
  annotateCall(observation: Observation, attributes: { connection: string | null; outcome: string }): void;
  /** A CLIENT span for one upstream HTTP request; writes its `traceparent` into `headers`. */
  startOutbound(observation: Observation | undefined, request: { connection: string; method: string; url: URL; headers: Headers }): OutboundSpan;
  /** A span for one database write (a transaction, an access-log batch). */
  dbSpan<T>(name: string, attributes: Record<string, string | number>, fn: () => Promise<T>): Promise<T>;
  /** Exports what is pending (tests, shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
};
