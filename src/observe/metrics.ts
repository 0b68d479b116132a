import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import type { AccessLogEntry } from "../accesslog/recorder.ts";
import { ToolLabels } from "./tool-labels.ts";

const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const DATABASE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

type ConnectionSeries = { gateway: { observe(value: number): void }; upstream: { observe(value: number): void } };

/** `connection` for a call that named no known tool: connection names are lowercase, so this is no name. */
export const UNKNOWN_CONNECTION = "(unknown)";

export type MetricsOptions = {
  /** The gateway's own tool names (without prefix): any other `gateway__` name is not a tool. */
  nativeTools: string[];
  /** Distinct (connection, tool) label pairs before new ones are counted as `(other)`. */
  toolSeriesCap?: number;
};

/**
 * The gateway's Prometheus metrics, in a registry of its own (several gateways may share a process
 * in tests). What changes per call is counted here, from the access-log record every call passes
 * through and from the outbound fetch; what is a level (queues, pools, sessions) is read at scrape
 * time by the gauges in metrics-gauges.ts, so that the hot path does not keep them.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly tools: ToolLabels;
  private readonly native: Set<string>;
  private readonly calls: Counter<"connection" | "tool" | "outcome">;
  private readonly callSeconds: Histogram<"connection" | "outcome">;
  private readonly gatewaySeconds: Histogram<"connection">;
  private readonly upstreamSeconds: Histogram<"connection">;
  private readonly accessLogWriteSeconds: Histogram<"result">;
  private readonly databaseSeconds: Histogram<"operation">;
  private readonly refreshers: (() => Promise<void>)[] = [];
  // Label children by their values (as many as the series themselves; tool labels are capped).
  private readonly callSeries = new Map<string, { calls: { inc(): void }; seconds: { observe(value: number): void } }>();
  private readonly connectionSeries = new Map<string, ConnectionSeries>();

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    this.tools = new ToolLabels(options.toolSeriesCap ?? 1000);
    this.native = new Set(options.nativeTools);
    collectDefaultMetrics({ register: this.registry });
    this.calls = new Counter({
      name: "mcp_gateway_tool_calls_total",
      help: "tools/call requests, by connection, tool (exposed tools only, at most 1000 pairs; the rest are (other)) and outcome (ok, tool_error, upstream_error, denied).",
      labelNames: ["connection", "tool", "outcome"],
      registers,
    });
    this.callSeconds = new Histogram({
      name: "mcp_gateway_tool_call_duration_seconds",
      help: "Whole tools/call latency as the gateway saw it, from routing to the answer.",
      labelNames: ["connection", "outcome"],
      buckets: CALL_BUCKETS,
      registers,
    });
    this.gatewaySeconds = new Histogram({
      name: "mcp_gateway_tool_call_gateway_seconds",
      help: "The gateway's share of a tools/call's latency: the whole call less the time its upstream HTTP requests took.",
      labelNames: ["connection"],
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.upstreamSeconds = new Histogram({
      name: "mcp_gateway_upstream_request_duration_seconds",
      help: "Upstream HTTP POST requests (MCP messages), from sending until the answer was read to its end.",
      labelNames: ["connection"],
      buckets: CALL_BUCKETS,
      registers,
    });
    this.accessLogWriteSeconds = new Histogram({
      name: "mcp_gateway_access_log_write_seconds",
      help: "One batch of access-log rows written to the database (result ok or failed).",
      labelNames: ["result"],
      buckets: DATABASE_BUCKETS,
      registers,
    });
    this.databaseSeconds = new Histogram({
      name: "mcp_gateway_database_duration_seconds",
      help: "Database round trips: transactions (every multi-row write) and the ping each scrape makes.",
      labelNames: ["operation"],
      buckets: DATABASE_BUCKETS,
      registers,
    });
  }

  /** Runs before each scrape, so that levels read from elsewhere (the database) are current. */
  beforeScrape(refresh: () => Promise<void>): void {
    this.refreshers.push(refresh);
  }

  /** The text Prometheus reads. */
  async scrape(): Promise<string> {
    await Promise.all(this.refreshers.map((refresh) => refresh().catch(() => undefined)));
    return this.registry.metrics();
  }

  /** A call as the access log records it; `upstreamSeconds` when the call's upstream time is known (null: not split). */
  recordCall(entry: AccessLogEntry, upstreamSeconds: number | null): void {
    const connection = entry.connectionName ?? UNKNOWN_CONNECTION;
    const exposed = entry.connectionName !== null && entry.outcome !== "denied" && (entry.connectionName !== "gateway" || this.native.has(entry.tool));
    const tool = this.tools.label(connection, exposed ? entry.tool : null);
    const key = `${connection}\u0000${tool}\u0000${entry.outcome}`;
    let series = this.callSeries.get(key);
    if (!series) {
      series = { calls: this.calls.labels({ connection, tool, outcome: entry.outcome }), seconds: this.callSeconds.labels({ connection, outcome: entry.outcome }) };
      this.callSeries.set(key, series);
    }
    series.calls.inc();
    const seconds = entry.latencyMs / 1000;
    series.seconds.observe(seconds);
    // Known for calls made through the MCP endpoint; a dashboard's "Test a tool" is not split.
    if (upstreamSeconds !== null) this.byConnection(connection).gateway.observe(Math.max(0, seconds - upstreamSeconds));
  }

  observeUpstream(connection: string, seconds: number): void {
    this.byConnection(connection).upstream.observe(seconds);
  }

  /**
   * A connection's series, looked up once: the hot path makes no label objects for prom-client
   * to check on each of a call's updates.
   */
  private byConnection(connection: string): ConnectionSeries {
    let series = this.connectionSeries.get(connection);
    if (!series) {
      series = { gateway: this.gatewaySeconds.labels({ connection }), upstream: this.upstreamSeconds.labels({ connection }) };
      this.connectionSeries.set(connection, series);
    }
    return series;
  }

  observeAccessLogWrite(seconds: number, ok: boolean): void {
    this.accessLogWriteSeconds.observe({ result: ok ? "ok" : "failed" }, seconds);
  }

  observeDatabase(operation: "transaction" | "ping", seconds: number): void {
    this.databaseSeconds.observe({ operation }, seconds);
  }
}
