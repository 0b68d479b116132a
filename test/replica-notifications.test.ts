import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/client";
import { createPostgresDatabase, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { spawnGateway, type GatewayProcess } from "./helpers/process.ts";
import { startRoundRobin, type RoundRobin } from "./helpers/round-robin.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api, connectClient } from "./helpers/client.ts";
import { waitFor } from "./helpers/wait.ts";

// Three replicas on one PostgreSQL behind plain round-robin (no stickiness): one in this process,
// where the test seeds and administers, and two real gateway processes.
describe.skipIf(!process.env.TEST_DATABASE_URL)("2025 session clients behind a round-robin load balancer", () => {
  let a: TestGateway;
  let others: GatewayProcess[] = [];
  let balancer: RoundRobin;
  let upstream: Upstream;
  let drop: () => Promise<void>;
  let key: string;
  let connectionId: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    const database = await createPostgresDatabase();
    drop = database.drop;
    upstream = await startUpstream({ tools: ["echo", "add", "slow"] });
    // Every replica shares the encryption key, as the README asks.
    const encryptionKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
    const dir = (): string => {
      const made = mkdtempSync(join(tmpdir(), "mgw-rr-"));
      dirs.push(made);
      return made;
    };
    a = await startTestGateway({ dialect: "postgres", reuse: { dataDir: dir(), databaseUrl: database.url }, env: { GATEWAY_ENCRYPTION_KEY: encryptionKey } });
    key = (await seedOwner(a)).key;
    const added = await api(a.url, key)("POST", "/api/v1/connections", { name: "shared", url: upstream.url });
    expect(added.status).toBe(201);
    connectionId = (added.json.connection as { id: string }).id;
    for (let i = 0; i < 2; i++) {
      others.push(
        await spawnGateway({ DATA_DIR: dir(), DATABASE_URL: database.url, GATEWAY_ENCRYPTION_KEY: encryptionKey, UPSTREAM_ALLOW: "127.0.0.1,localhost,::1", LOG_LEVEL: "warn" }, { startTimeoutMs: 20_000 }),
      );
    }
    balancer = startRoundRobin([a.url, ...others.map((o) => o.url)]);
  }, 60_000);

  afterAll(async () => {
    await balancer?.stop();
    for (const other of others) {
      other.child.kill("SIGTERM");
      await other.child.exited;
    }
    others = [];
    await a?.stop();
    await upstream?.stop();
    await drop?.();
    for (const made of dirs) rmSync(made, { recursive: true, force: true });
  });

  test("six 2025 clients whose requests are spread over three replicas all hear a tool toggled by an admin", async () => {
    const heard = new Set<number>();
    const clients: Client[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        clients.push(await connectClient(balancer.url, key, "2025-11-25", { onToolsChanged: () => heard.add(i) }));
      }
      // Each client opened its GET stream (answered, whatever the answer was) before the change.
      await waitFor(() => balancer.getStreams.length >= 6, { timeoutMs: 10_000, what: "six GET streams answered" });
      expect(balancer.getStreams.slice(0, 6)).toEqual([200, 200, 200, 200, 200, 200]);
      const toggled = await api(a.url, key)("PATCH", `/api/v1/connections/${connectionId}/tools/add`, { enabled: false });
      expect(toggled.status).toBe(200);
      await waitFor(() => heard.size === 6, { timeoutMs: 10_000, what: `list_changed on every client (heard by ${heard.size} of 6)` });
      // The sessions still answer, wherever their requests land.
      for (const client of clients) expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("shared__add");
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    }
  }, 40_000);

  test("a session's GET stream opens at once: its headers arrive before any event is sent", async () => {
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}` };
    const init = await fetch(`${a.url}/api/v1/mcp`, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
    });
    await init.body?.cancel();
    const sessionHeaders = { ...headers, "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-11-25" };
    await (await fetch(`${a.url}/api/v1/mcp`, { method: "POST", headers: sessionHeaders, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) })).body?.cancel();
    const abort = new AbortController();
    try {
      // Nothing has changed, so no event is due: the response must resolve on its own (the SDK's
      // first keep-alive comes 15 s later, past this test's timeout).
      const stream = await fetch(`${a.url}/api/v1/mcp`, { method: "GET", headers: sessionHeaders, signal: abort.signal });
      expect(stream.status).toBe(200);
      expect(stream.headers.get("content-type")).toContain("text/event-stream");
      const toggled = await api(a.url, key)("PATCH", `/api/v1/connections/${connectionId}/tools/add`, { enabled: true });
      expect(toggled.status).toBe(200);
      const reader = stream.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      while (!text.includes("notifications/tools/list_changed")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      expect(text).toContain("notifications/tools/list_changed");
    } finally {
      abort.abort();
    }
  }, 10_000);

  test("a session id is no credential: another key's GET stream for it is not served as that session", async () => {
    const other = await api(a.url, key)("POST", "/api/v1/keys", { name: "other" });
    const otherKey = other.json.key as string;
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const init = await fetch(`${a.url}/api/v1/mcp`, {
      method: "POST",
      headers: { ...headers, authorization: `Bearer ${key}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
    });
    await init.body?.cancel();
    const sessionId = init.headers.get("mcp-session-id")!;
    // On every replica, with the other key: never a stream of this session.
    for (const url of [a.url, ...others.map((o) => o.url)]) {
      const stream = await fetch(`${url}/api/v1/mcp`, { method: "GET", headers: { ...headers, authorization: `Bearer ${otherKey}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" } });
      await stream.body?.cancel();
      expect(stream.status).not.toBe(200);
    }
    // A forged id (right shape, wrong seal) is not adopted either.
    const forged = `${sessionId.slice(0, -4)}AAAA`;
    const stream = await fetch(`${others[0]!.url}/api/v1/mcp`, { method: "GET", headers: { ...headers, authorization: `Bearer ${key}`, "mcp-session-id": forged, "mcp-protocol-version": "2025-11-25" } });
    await stream.body?.cancel();
    expect(stream.status).not.toBe(200);
  });
});
