/**
 * The settings of metrics, traces and connection alerts, read from the environment by config.ts
 * (the only reader of it). Traces use the standard OpenTelemetry variables, so that a collector
 * set up for other services needs nothing new.
 */

export type TracingConfig = {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  url: string;
  /** OTEL_EXPORTER_OTLP_HEADERS (and _TRACES_HEADERS): `key=value,…`, URL-encoded values. */
  headers: Record<string, string>;
  serviceName: string;
  /** The batch span processor's OTEL_BSP_* settings: spans past the queue are dropped, never waited for. */
  batch: { scheduledDelayMillis: number; maxQueueSize: number; maxExportBatchSize: number; exportTimeoutMillis: number };
};

export type ObserveConfig = {
  /** METRICS=off removes /metrics and every metric update on the hot path. */
  metricsEnabled: boolean;
  /** A bearer token for /metrics; without one, only loopback peers may read it. */
  metricsToken: string | null;
  /** Null when no OTLP endpoint is set: no tracing code is loaded at all. */
  tracing: TracingConfig | null;
  /** A connection in Error or Paused this long is logged at warn (once per episode). */
  connectionDownWarnMs: number;
};

// Short tokens are guessable from the network; 16 characters is the least a random one has.
const MIN_TOKEN_LENGTH = 16;

export function readObserveConfig(env: Record<string, string | undefined>, readInteger: ReadInteger, errors: string[]): ObserveConfig {
  const metrics = (env.METRICS?.trim() || "on").toLowerCase();
  if (metrics !== "on" && metrics !== "off") errors.push(`METRICS must be "on" or "off", got "${env.METRICS}"`);
  const metricsToken = env.METRICS_TOKEN?.trim() || null;
  if (metricsToken !== null && metricsToken.length < MIN_TOKEN_LENGTH) errors.push(`METRICS_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters (make one with: openssl rand -hex 24)`);
  const connectionDownWarnMs = readInteger("CONNECTION_DOWN_WARN_MS", 10 * 60_000, 1000, 7 * 86_400_000);
  return { metricsEnabled: metrics !== "off", metricsToken, tracing: readTracing(env, readInteger, errors), connectionDownWarnMs };
}

type ReadInteger = (name: string, fallback: number, min: number, max: number) => number;

function readTracing(env: Record<string, string | undefined>, readInteger: ReadInteger, errors: string[]): TracingConfig | null {
  if ((env.OTEL_SDK_DISABLED?.trim() ?? "").toLowerCase() === "true") return null;
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!tracesEndpoint && !endpoint) return null;
  const exporter = (env.OTEL_TRACES_EXPORTER?.trim() || "otlp").toLowerCase();
  if (exporter === "none") return null;
  if (exporter !== "otlp") errors.push(`OTEL_TRACES_EXPORTER: only "otlp" (or "none") is supported, got "${exporter}"`);
  // The gateway exports OTLP/HTTP with JSON bodies; collectors take it on the same port (4318) as protobuf.
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() || "http/json").toLowerCase();
  if (protocol !== "http/json") errors.push(`OTEL_EXPORTER_OTLP_PROTOCOL: the gateway exports OTLP over HTTP as JSON; set it to "http/json" (collectors accept it on the OTLP/HTTP port, 4318), got "${protocol}"`);
  const url = tracesEndpoint || `${(endpoint as string).replace(/\/+$/, "")}/v1/traces`;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    errors.push(`OTEL_EXPORTER_OTLP_${tracesEndpoint ? "TRACES_" : ""}ENDPOINT must be an http(s) URL`);
    return null;
  }
  const headers = { ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, errors), ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, errors) };
  // The OpenTelemetry defaults; the SDK itself no longer reads these variables.
  const batch = {
    scheduledDelayMillis: readInteger("OTEL_BSP_SCHEDULE_DELAY", 5000, 1, 600_000),
    maxQueueSize: readInteger("OTEL_BSP_MAX_QUEUE_SIZE", 2048, 1, 1_000_000),
    maxExportBatchSize: readInteger("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, 1, 1_000_000),
    exportTimeoutMillis: readInteger("OTEL_BSP_EXPORT_TIMEOUT", 30_000, 1, 600_000),
  };
  if (batch.maxExportBatchSize > batch.maxQueueSize) errors.push("OTEL_BSP_MAX_EXPORT_BATCH_SIZE must not be above OTEL_BSP_MAX_QUEUE_SIZE");
  return { url, headers, serviceName: env.OTEL_SERVICE_NAME?.trim() || "mcp-gateway", batch };
}

/** The OTel format: `key1=value1,key2=value2`, values URL-encoded. Never echoes a value (it may be a key). */
function parseHeaders(raw: string | undefined, errors: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const at = pair.indexOf("=");
    const name = at > 0 ? pair.slice(0, at).trim() : "";
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name)) {
      errors.push("OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas");
      continue;
    }
    try {
      headers[name] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      errors.push(`OTEL_EXPORTER_OTLP_HEADERS: the value of ${name} is not URL-encoded correctly`);
    }
  }
  return headers;
}
