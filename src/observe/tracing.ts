import type { Context, Span, TextMapGetter, TextMapSetter } from "@opentelemetry/api";
import type { Logger } from "../log.ts";
import type { TracingConfig } from "./observe-config.ts";
import { onBodyEnd } from "../net/body-end.ts";
import { currentObservation as currentObservationOrNull, observing, type Observation, type OutboundSpan, type Tracing } from "./request-context.ts";

const headerGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: (carrier) => [...carrier.keys()],
};
const headerSetter: TextMapSetter<Headers> = { set: (carrier, key, value) => carrier.set(key, value) };

/**
 * Traces over OTLP/HTTP (JSON) with the official OpenTelemetry packages, or null when no endpoint
 * is configured. The packages are imported here, on demand: a gateway without tracing never loads
 * them. Nothing global is registered (no global provider, context manager or propagator): the
 * gateway's own AsyncLocalStorage (request-context.ts) carries the context, so gateways in one
 * process (tests) keep apart. The client's sampling decision is followed (parent-based sampling).
 */
export async function startTracing(config: TracingConfig | null, log: Logger, dialect: "sqlite" | "postgres"): Promise<Tracing | null> {
  if (!config) return null;
  const [api, core, sdk, otlp, resources] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/core"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const { trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } = api;
  const exporter = new otlp.OTLPTraceExporter({ url: config.url, headers: config.headers });
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({ "service.name": config.serviceName }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter, ...config.batch })],
  });
  const tracer = provider.getTracer("mcp-gateway");
  const propagator = new core.W3CTraceContextPropagator();
  const dbSystem = dialect === "sqlite" ? "sqlite" : "postgresql";
  // Where spans go is the operator's own collector; its headers may hold a key, so only the URL's origin is logged.
  log.info("tracing on", { exporter: new URL(config.url).origin, serviceName: config.serviceName });

  function fail(span: Span, error: unknown): void {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : "error" });
  }

  async function inSpan<T>(span: Span, context: Context, observation: Observation, fn: () => Promise<T>): Promise<T> {
    try {
      return await observing({ ...observation, context }, fn);
    } catch (error) {
      fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  const tracing: Tracing = {
    async serveRequest(request, serve) {
      const requestParent = request.headers.get("traceparent");
      const parent = propagator.extract(ROOT_CONTEXT, request.headers, headerGetter);
      const span = tracer.startSpan(`${request.method} ${new URL(request.url).pathname}`, { kind: SpanKind.SERVER, attributes: { "http.request.method": request.method } }, parent);
      const observation: Observation = { tracing, context: trace.setSpan(parent, span), requestParent, timing: { upstreamSeconds: 0 } };
      let response: Response;
      try {
        response = await observing(observation, serve);
      } catch (error) {
        fail(span, error);
        span.end();
        throw error;
      }
      span.setAttribute("http.response.status_code", response.status);
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      // A streamed answer (SSE) is part of the request: the span ends with its body.
      if (response.body === null) {
        span.end();
        return response;
      }
      let ended = false;
      return new Response(
        onBodyEnd(response.body, () => {
          if (ended) return;
          ended = true;
          span.end();
        }),
        response,
      );
    },

    callSpan(observation, tool, metaTraceparent, fn) {
      let parent = observation.context as Context;
      const links = [];
      // MCP's trace-context convention: a traceparent in the request's _meta names the parent of
      // the operation. When it is the one the HTTP request already carried, the HTTP span (its
      // child) stays the parent; another one wins, linked to the HTTP span.
      if (typeof metaTraceparent === "string" && metaTraceparent.trim().toLowerCase() !== observation.requestParent?.trim().toLowerCase()) {
        const fromMeta = propagator.extract(ROOT_CONTEXT, new Headers({ traceparent: metaTraceparent }), headerGetter);
        if (trace.getSpanContext(fromMeta)) {
          const http = trace.getSpanContext(parent);
          if (http) links.push({ context: http });
          parent = fromMeta;
        }
      }
      const span = tracer.startSpan(`tools/call ${tool}`, { kind: SpanKind.INTERNAL, links, attributes: { "mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool } }, parent);
      return inSpan(span, trace.setSpan(parent, span), observation, fn);
    },

    traceparentOf(observation) {
      const carrier = new Headers();
      propagator.inject(observation.context as Context, carrier, headerSetter);
      return carrier.get("traceparent") ?? undefined;
    },

    annotateCall(observation, attributes) {
      const span = trace.getSpan(observation.context as Context);
      if (!span) return;
      span.setAttribute("mcp_gateway.outcome", attributes.outcome);
      if (attributes.connection !== null) span.setAttribute("mcp_gateway.connection", attributes.connection);
      if (attributes.outcome !== "ok") span.setStatus({ code: SpanStatusCode.ERROR, message: attributes.outcome });
    },

    startOutbound(observation, request): OutboundSpan {
      const parent = (observation?.context as Context | undefined) ?? ROOT_CONTEXT;
      // Never the full URL: a connection may carry its key in it.
      const span = tracer.startSpan(
        request.method,
        {
          kind: SpanKind.CLIENT,
          attributes: { "http.request.method": request.method, "server.address": request.url.hostname, "server.port": Number(request.url.port || (request.url.protocol === "https:" ? 443 : 80)), "mcp_gateway.connection": request.connection },
        },
        parent,
      );
      propagator.inject(trace.setSpan(parent, span), request.headers, headerSetter);
      let ended = false;
      return {
        end(outcome) {
          if (ended) return;
          ended = true;
          if (outcome.status !== undefined) span.setAttribute("http.response.status_code", outcome.status);
          if (outcome.error !== undefined || (outcome.status ?? 0) >= 500) fail(span, outcome.error);
          span.end();
        },
      };
    },

    dbSpan(name, attributes, fn) {
      const observation = currentOrDetached();
      const parent = (observation.context as Context | undefined) ?? ROOT_CONTEXT;
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes: { "db.system.name": dbSystem, ...attributes } }, parent);
      return inSpan(span, trace.setSpan(parent, span), observation, fn);
    },

    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown().catch((error: unknown) => log.warn("tracing: the last spans could not be exported", { error: error instanceof Error ? error.message : String(error) }));
    },
  };

  /** Outside any MCP request (the access log's timer, a background check): a trace of its own. */
  function currentOrDetached(): Observation {
    return currentObservationOrNull() ?? { tracing, context: ROOT_CONTEXT, requestParent: null, timing: { upstreamSeconds: 0 } };
  }
  return tracing;
}

