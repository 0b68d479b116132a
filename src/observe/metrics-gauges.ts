import { Gauge } from "prom-client";
import type { GatewayMetrics } from "./metrics.ts";
import type { ConnectionHealth, ConnectionWatch } from "./connection-watch.ts";

const STATUSES: ConnectionHealth["status"][] = ["connected", "needs_reauth", "error", "paused"];

/** What the gauges read at scrape time; each is a count the gateway keeps anyway. */
export type GaugeSources = {
  /** Calls running and waiting per connection id (upstream/in-flight.ts). */
  calls: { lanesNow(): Iterable<{ connectionId: string; running: number; queued: number }> };
  /** HTTP requests open to upstreams, per connection id (upstream/open-requests.ts). */
  openRequests: { byConnection(): Iterable<[string, number]> };
  /** Pooled upstream clients. */
  pool: { readonly size: number };
  /** 2025 sessions and open notification streams on this replica. */
  held(): { sessions: number; streams: number };
  accessLog: { readonly pending: number };
  connections: ConnectionWatch;
  /** Whether the database answered a ping (timed by observed-database.ts). */
  pingDatabase(): Promise<boolean>;
};

/**
 * Levels read when Prometheus scrapes, with `collect` callbacks: nothing on the call path keeps
 * them. Connections are labelled by name, from the watch's snapshot (the scrape refreshes it first);
 * connections of one name in several workspaces add up in one series.
 */
export function registerGauges(metrics: GatewayMetrics, sources: GaugeSources): void {
  const registers = [metrics.registry];
  const nameOf = (id: string): string => sources.connections.current.find((c) => c.id === id)?.name ?? id;
  // Read once per scrape, before any gauge is collected (collects run side by side).
  let databaseUp = false;
  metrics.beforeScrape(async () => {
    databaseUp = await sources.pingDatabase();
  });
  // Status and time down as of now (bounded by DATABASE_WAIT_MS; the last snapshot if the database is slow).
  metrics.beforeScrape(async () => void (await sources.connections.check()));

  new Gauge({
    name: "mcp_gateway_calls_in_flight",
    help: "tools/call requests running on each connection's upstream (at most MAX_CALLS_PER_CONNECTION).",
    labelNames: ["connection"],
    registers,
    collect() {
      this.reset();
      for (const lane of sources.calls.lanesNow()) this.inc({ connection: nameOf(lane.connectionId) }, lane.running);
    },
  });
  new Gauge({
    name: "mcp_gateway_calls_queued",
    help: "tools/call requests waiting in each connection's queue for a place.",
    labelNames: ["connection"],
    registers,
    collect() {
      this.reset();
      for (const lane of sources.calls.lanesNow()) this.inc({ connection: nameOf(lane.connectionId) }, lane.queued);
    },
  });
  new Gauge({
    name: "mcp_gateway_upstream_requests_open",
    help: "HTTP requests open to each connection's upstream (calls, listen streams, checks).",
    labelNames: ["connection"],
    registers,
    collect() {
      this.reset();
      for (const [id, count] of sources.openRequests.byConnection()) this.inc({ connection: nameOf(id) }, count);
    },
  });
  new Gauge({
    name: "mcp_gateway_upstream_clients",
    help: "Connected upstream clients in the pool (one per connection, one per member on per-member connections).",
    registers,
    collect() {
      this.set(sources.pool.size);
    },
  });
  new Gauge({
    name: "mcp_gateway_sessions_open",
    help: "2025-era MCP sessions held on this replica.",
    registers,
    collect() {
      this.set(sources.held().sessions);
    },
  });
  new Gauge({
    name: "mcp_gateway_streams_open",
    help: "Open notification streams on this replica (2025 GET streams, 2026 subscriptions/listen).",
    registers,
    collect() {
      this.set(sources.held().streams);
    },
  });
  new Gauge({
    name: "mcp_gateway_access_log_queue_rows",
    help: "Access-log rows waiting in memory to be written.",
    registers,
    collect() {
      this.set(sources.accessLog.pending);
    },
  });
  new Gauge({
    name: "mcp_gateway_database_up",
    help: "1 when the database answered this scrape's ping, else 0.",
    registers,
    collect() {
      this.set(databaseUp ? 1 : 0);
    },
  });
  new Gauge({
    name: "mcp_gateway_connection_status",
    help: "1 for each connection's current status (connected, needs_reauth, error, paused), 0 for the others.",
    labelNames: ["connection", "status"],
    registers,
    collect() {
      this.reset();
      for (const c of sources.connections.current) for (const status of STATUSES) this.set({ connection: c.name, status }, c.status === status ? 1 : 0);
    },
  });
  new Gauge({
    name: "mcp_gateway_connection_down_seconds",
    help: "How long each connection in Error or Paused has been down (Error and Paused in a row count as one).",
    labelNames: ["connection"],
    registers,
    collect() {
      this.reset();
      for (const c of sources.connections.current) if (c.downForMs !== null) this.set({ connection: c.name }, c.downForMs / 1000);
    },
  });
  new Gauge({
    name: "mcp_gateway_connection_down_too_long",
    help: "1 for a connection down (Error or Paused) for CONNECTION_DOWN_WARN_MS or longer, else 0: alert on it.",
    labelNames: ["connection"],
    registers,
    collect() {
      this.reset();
      for (const c of sources.connections.current) this.set({ connection: c.name }, c.downTooLong ? 1 : 0);
    },
  });
}
