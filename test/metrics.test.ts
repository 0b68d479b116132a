import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/client";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { startFaultyUpstream, type FaultyUpstream } from "./helpers/faulty-upstream.ts";
import { api, connectClient } from "./helpers/client.ts";
import { scrape, type Scrape } from "./helpers/prometheus.ts";
import { waitFor } from "./helpers/wait.ts";
import { networkInterfaces } from "node:os";

// One call at a time per connection, so that a second call waits in the queue where a scrape can see it.
const ENV = { MAX_CALLS_PER_CONNECTION: "1", PROBE_INTERVAL_MS: "3600000", CONNECTION_DOWN_WARN_MS: "600000" };

for (const dialect of dialects) {
  describe(`/metrics on ${dialect}`, () => {
    let t: TestGateway;
    let key: string;
    let fixture: Upstream;
    let faulty: FaultyUpstream;
    let client: Client;

    beforeAll(async () => {
      [t, fixture, faulty] = await Promise.all([startTestGateway({ dialect, env: ENV }), startUpstream({ tools: ["echo", "fail", "hang"] }), startFaultyUpstream("ok")]);
      ({ key } = await seedOwner(t));
      const call = api(t.url, key);
      expect((await call("POST", "/api/v1/connections", { name: "fixture", url: fixture.url })).status).toBe(201);
      expect((await call("POST", "/api/v1/connections", { name: "faulty", url: faulty.url })).status).toBe(201);
      client = await connectClient(t.url, key);
    });
    afterAll(async () => {
      await client.close();
      await t.stop();
      await Promise.all([fixture.stop(), faulty.stop()]);
    });

    const calls = (s: Scrape, connection: string, tool: string, outcome: string): number => s.value("mcp_gateway_tool_calls_total", { connection, tool, outcome }) ?? 0;

    test("calls through the gateway count by connection, tool and outcome: ok, tool_error, upstream_error, denied", async () => {
      const before = await scrape(t.url);
      await client.callTool({ name: "fixture__echo", arguments: { message: "hi" } });
      await client.callTool({ name: "fixture__echo", arguments: { message: "again" } });
      expect((await client.callTool({ name: "fixture__fail", arguments: {} })).isError).toBe(true);
      await faulty.setMode("http500");
      expect((await client.callTool({ name: "faulty__echo", arguments: { message: "x" } })).isError).toBe(true);
      await expect(client.callTool({ name: "nosuch__tool", arguments: {} })).rejects.toThrow(/Unknown tool/);
      const after = await scrape(t.url);

      expect(calls(after, "fixture", "echo", "ok") - calls(before, "fixture", "echo", "ok")).toBe(2);
      expect(calls(after, "fixture", "fail", "tool_error") - calls(before, "fixture", "fail", "tool_error")).toBe(1);
      expect(calls(after, "faulty", "echo", "upstream_error") - calls(before, "faulty", "echo", "upstream_error")).toBe(1);
      // A name the client made up is never a label value.
      expect(calls(after, "(unknown)", "(other)", "denied") - calls(before, "(unknown)", "(other)", "denied")).toBe(1);
      expect(after.text).not.toContain("nosuch");

      // Latency: the whole call, the gateway's share, and the upstream's HTTP requests.
      expect(after.count("mcp_gateway_tool_call_duration_seconds", { connection: "fixture", outcome: "ok" })).toBe(2);
      expect(after.count("mcp_gateway_tool_call_gateway_seconds", { connection: "fixture" })).toBeGreaterThanOrEqual(3);
      expect(after.count("mcp_gateway_upstream_request_duration_seconds", { connection: "fixture" })).toBeGreaterThanOrEqual(3);
      // The faulty upstream answered 500: the connection is in Error now, and says so.
      expect(after.value("mcp_gateway_connection_status", { connection: "faulty", status: "error" })).toBe(1);
      expect(after.value("mcp_gateway_connection_status", { connection: "fixture", status: "connected" })).toBe(1);
      expect(after.value("mcp_gateway_connection_down_too_long", { connection: "faulty" })).toBe(0);
      // Process metrics and the database.
      expect(after.value("process_resident_memory_bytes")).toBeGreaterThan(0);
      expect(after.value("mcp_gateway_database_up")).toBe(1);
      expect(after.count("mcp_gateway_database_duration_seconds", { operation: "transaction" })).toBeGreaterThan(0);
      expect(after.count("mcp_gateway_database_duration_seconds", { operation: "ping" })).toBeGreaterThan(0);
      expect(after.value("mcp_gateway_upstream_clients")).toBeGreaterThanOrEqual(1);
      await faulty.setMode("ok");
    });

    test("a call running and one waiting in the connection's queue show per connection, and leave when they end", async () => {
      const first = new AbortController();
      const second = new AbortController();
      const running = client.callTool({ name: "fixture__hang", arguments: {} }, { signal: first.signal }).catch(() => undefined);
      await waitFor(async () => (await scrape(t.url)).value("mcp_gateway_calls_in_flight", { connection: "fixture" }) === 1, { what: "the hanging call in flight" });
      const waiting = client.callTool({ name: "fixture__echo", arguments: { message: "queued" } }, { signal: second.signal }).catch(() => undefined);
      await waitFor(async () => (await scrape(t.url)).value("mcp_gateway_calls_queued", { connection: "fixture" }) === 1, { what: "the second call queued" });
      const both = await scrape(t.url);
      expect(both.value("mcp_gateway_calls_in_flight", { connection: "fixture" })).toBe(1);
      expect(both.value("mcp_gateway_upstream_requests_open", { connection: "fixture" })).toBeGreaterThanOrEqual(1);
      second.abort();
      first.abort();
      await Promise.all([running, waiting]);
      await waitFor(async () => (await scrape(t.url)).value("mcp_gateway_calls_in_flight", { connection: "fixture" }) === undefined, { what: "the lane to empty" });
    });

    test("2025 sessions and their GET streams are counted", async () => {
      const legacy = await connectClient(t.url, key, "2025-11-25", { onToolsChanged: () => undefined });
      try {
        await waitFor(async () => {
          const s = await scrape(t.url);
          return (s.value("mcp_gateway_sessions_open") ?? 0) >= 1 && (s.value("mcp_gateway_streams_open") ?? 0) >= 1;
        }, { what: "the session and its stream in the metrics" });
      } finally {
        await legacy.close();
      }
    });
  });
}

test("while SQLite holds writes back, the access log's queued rows and the database's failed ping show; then the write", async () => {
  // A transaction held open keeps every other statement waiting (db/statement-gate.ts): the
  // recorder's batch cannot be written, and the scrape's ping gives up after DATABASE_WAIT_MS.
  const t = await startTestGateway({ env: { DATABASE_WAIT_MS: "200" } });
  try {
    const { workspaceId, userId } = await seedOwner(t);
    const { promise: released, resolve: release } = Promise.withResolvers<void>();
    const held = t.gateway.deps.database.transaction(() => released);
    t.gateway.deps.accessLog.record({ at: Date.now(), workspaceId, userId, apiKeyId: null, connectionName: "gateway", tool: "list_connections", outcome: "ok", latencyMs: 1, errorSummary: null, credentialUserId: null });
    const waiting = await scrape(t.url);
    expect(waiting.value("mcp_gateway_access_log_queue_rows")).toBe(1);
    expect(waiting.value("mcp_gateway_database_up")).toBe(0);
    release();
    await held;
    await t.gateway.deps.accessLog.flush();
    const written = await scrape(t.url);
    expect(written.value("mcp_gateway_access_log_queue_rows")).toBe(0);
    expect(written.value("mcp_gateway_database_up")).toBe(1);
    expect(written.count("mcp_gateway_access_log_write_seconds", { result: "ok" })).toBeGreaterThanOrEqual(1);
    expect(written.value("mcp_gateway_tool_calls_total", { connection: "gateway", tool: "list_connections", outcome: "ok" })).toBe(1);
  } finally {
    await t.stop();
  }
});

/** An address of this machine that is not loopback (a test bound there is reached from a non-loopback peer), if it has one. */
function ownNonLoopbackAddress(): string | null {
  for (const entries of Object.values(networkInterfaces())) for (const entry of entries ?? []) if (entry.family === "IPv4" && !entry.internal) return entry.address;
  return null;
}

const TOKEN = "metrics-token-for-the-test-0123456789";
const own = ownNonLoopbackAddress();

describe("who may read /metrics", () => {
  // Bound on every address, so the same gateway is reached from loopback and from this machine's
  // other address: the peer the gateway sees is then that address, which is not loopback. (Where
  // the machine has no such address, src/observe/metrics-access.test.ts still checks the rule.)
  const reach = (t: TestGateway, host: string, init: RequestInit = {}): Promise<Response> => fetch(`http://${host}:${new URL(t.url).port}/metrics`, init);

  test.skipIf(own === null)("without a metrics token: loopback peers read the metrics, a peer on another address gets 403", async () => {
    const address = own as string;
    const t = await startTestGateway({ env: { HOST: "0.0.0.0", ALLOWED_HOSTS: `127.0.0.1,${address}` } });
    try {
      expect((await reach(t, "127.0.0.1")).status).toBe(200);
      const refused = await reach(t, address);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { message: string }).message).toContain("METRICS_TOKEN");
    } finally {
      await t.stop();
    }
  });

  test("with a metrics token: the token is needed from anywhere, and suffices under any Host", async () => {
    const t = await startTestGateway({ env: { HOST: "0.0.0.0", METRICS_TOKEN: TOKEN } });
    try {
      const missing = await reach(t, "127.0.0.1");
      expect(missing.status).toBe(401);
      expect(missing.headers.get("www-authenticate")).toContain("Bearer");
      expect((await reach(t, "127.0.0.1", { headers: { authorization: `Bearer ${TOKEN}-wrong` } })).status).toBe(401);
      const read = await reach(t, own ?? "127.0.0.1", { headers: { authorization: `Bearer ${TOKEN}`, host: "10.9.8.7:9090" } });
      expect(read.status).toBe(200);
      expect(read.headers.get("content-type")).toContain("text/plain");
      expect(await read.text()).toContain("mcp_gateway_tool_calls_total");
    } finally {
      await t.stop();
    }
  });

  test("without a token, a name the gateway does not serve gets 421 even from loopback (a rebound name in a local browser reads nothing)", async () => {
    const t = await startTestGateway();
    try {
      expect((await fetch(`${t.url}/metrics`, { headers: { host: "attacker.example:80" } })).status).toBe(421);
    } finally {
      await t.stop();
    }
  });

  test("METRICS=off: there is no /metrics", async () => {
    const t = await startTestGateway({ env: { METRICS: "off" } });
    try {
      expect((await fetch(`${t.url}/metrics`)).status).toBe(404);
    } finally {
      await t.stop();
    }
  });
});
