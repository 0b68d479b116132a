import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { createPostgresDatabase, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startAuthServer, startProtectedUpstream } from "./helpers/oauth-server.ts";
import { authorizeConnection } from "./helpers/oauth-flow.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api, connectClient, mcpPingStatus as mcpStatus } from "./helpers/client.ts";
import { waitFor } from "./helpers/wait.ts";

// Several replicas behind a load balancer share one PostgreSQL database; nothing else.
describe.skipIf(!process.env.TEST_DATABASE_URL)("two replicas on one PostgreSQL", () => {
  let a: TestGateway;
  let b: TestGateway;
  let upstream: Upstream;
  let drop: () => Promise<void>;
  let key: string;

  beforeAll(async () => {
    const database = await createPostgresDatabase();
    drop = database.drop;
    upstream = await startUpstream({ tools: ["echo", "add"] });
    a = await startTestGateway({ dialect: "postgres", reuse: { dataDir: (await import("node:fs")).mkdtempSync("/tmp/mgw-replica-a-"), databaseUrl: database.url } });
    // The same encryption key on every replica (here: the same key file contents).
    const { readFileSync, writeFileSync, mkdtempSync } = await import("node:fs");
    const dirB = mkdtempSync("/tmp/mgw-replica-b-");
    writeFileSync(`${dirB}/encryption.key`, readFileSync(`${a.dataDir}/encryption.key`), { mode: 0o600 });
    // B remembers a checked key for a minute: only A's broadcast can make it forget one sooner.
    b = await startTestGateway({ dialect: "postgres", reuse: { dataDir: dirB, databaseUrl: database.url }, env: { AUTH_CACHE_MS: "60000" } });
    key = (await seedOwner(a)).key;
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop(), upstream.stop()]);
    await drop();
    const { rmSync } = await import("node:fs");
    for (const dir of [a.dataDir, b.dataDir]) rmSync(dir, { recursive: true, force: true });
  });

  test("a connection added on one replica is listed and callable on the other, whose clients hear list_changed", async () => {
    let heard = 0;
    const onB = await connectClient(b.url, key, "2026-07-28", { onToolsChanged: () => heard++ });
    try {
      expect((await onB.listTools()).tools.map((t) => t.name)).not.toContain("shared__echo");
      expect((await api(a.url, key)("POST", "/api/v1/connections", { name: "shared", url: upstream.url })).status).toBe(201);
      await waitFor(() => heard > 0, { what: "list_changed on the other replica" });
      expect((await onB.listTools()).tools.map((t) => t.name)).toContain("shared__echo");
      const result = await onB.callTool({ name: "shared__echo", arguments: { message: "across replicas" } });
      expect(result.content).toEqual([{ type: "text", text: "across replicas" }]);
      // A toggle on B reaches A as well.
      const id = ((await api(b.url, key)("GET", "/api/v1/connections")).json.connections as { id: string }[])[0]!.id;
      await api(b.url, key)("PATCH", `/api/v1/connections/${id}/tools/add`, { enabled: false });
      const onA = await connectClient(a.url, key);
      try {
        await waitFor(async () => !(await onA.listTools()).tools.some((t) => t.name === "shared__add"), { what: "the toggle on the first replica" });
      } finally {
        await onA.close();
      }
    } finally {
      await onB.close();
    }
  });

  test("a 2025 session begun on one replica keeps working when its next request lands on the other", async () => {
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}` };
    const init = await fetch(`${a.url}/api/v1/mcp`, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "lb", version: "1" } } }),
    });
    const sessionId = init.headers.get("mcp-session-id")!;
    expect(sessionId).toBeTruthy();
    const next = await fetch(`${b.url}/api/v1/mcp`, {
      method: "POST",
      headers: { ...headers, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "shared__echo", arguments: { message: "moved" } } }),
    });
    expect(next.status).toBe(200);
    expect(await next.text()).toContain("moved");
  });

  test("a key revoked on one replica is refused by the other on the next request", async () => {
    const created = await api(a.url, key)("POST", "/api/v1/keys", { name: "short-lived" });
    const shortLived = created.json.key as string;
    expect((await api(b.url, shortLived)("GET", "/api/v1/connections")).status).toBe(200);
    expect((await api(a.url, key)("DELETE", `/api/v1/keys/${created.json.id}`)).status).toBe(204);
    expect((await api(b.url, shortLived)("GET", "/api/v1/connections")).status).toBe(401);
  });

  test("twenty locks held at once, each querying while it holds its lock, all finish (locks do not starve the queries)", async () => {
    const { database } = a.gateway.deps;
    const held: string[] = [];
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        database.withLock(`test-lock-${i}`, async () => {
          held.push(`test-lock-${i}`);
          await Bun.sleep(50); // holding the lock a while is the scenario
          return (await database.db.select().from(database.t.workspaces)).length;
        }),
      ),
    );
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => 1));
    expect(held).toHaveLength(20);
  });

  test("one lock name admits one holder at a time, across replicas", async () => {
    let inside = 0;
    let most = 0;
    const hold = (database: typeof a.gateway.deps.database) =>
      database.withLock("test-one-name", async () => {
        inside++;
        most = Math.max(most, inside);
        await Bun.sleep(30); // holding the lock a while is the scenario
        inside--;
      });
    await Promise.all([hold(a.gateway.deps.database), hold(b.gateway.deps.database), hold(a.gateway.deps.database), hold(b.gateway.deps.database)]);
    expect(most).toBe(1);
  });

  test("an OAuth token both replicas find refused is refreshed once: the rotating refresh token is never spent twice", async () => {
    // Refreshes take a while, so that both replicas' refreshes overlap: without a lock shared by
    // the replicas both would send the same refresh token, and the server would revoke the grant.
    const as = await startAuthServer({ refreshDelayMs: 300 });
    const protectedUpstream = await startProtectedUpstream(as, { tools: ["echo"] });
    try {
      const added = await api(a.url, key)("POST", "/api/v1/connections", { name: "linear", url: protectedUpstream.url, auth: { kind: "oauth" } });
      expect(added.status).toBe(201);
      const id = (added.json.connection as { id: string }).id;
      await authorizeConnection(a.url, key, await signIn(a), id);
      const call = async (url: string, message: string): Promise<string> => {
        const client = await connectClient(url, key);
        try {
          const result = (await client.callTool({ name: "linear__echo", arguments: { message } })) as CallToolResult;
          return result.isError ? `error: ${JSON.stringify(result.content)}` : (result.content[0] as { text: string }).text;
        } finally {
          await client.close();
        }
      };
      // Both replicas hold the token; then the server forgets every access token it issued.
      expect([await call(a.url, "a0"), await call(b.url, "b0")]).toEqual(["a0", "b0"]);
      const refreshes = as.refreshes;
      as.forgetAccessTokens();
      expect(await Promise.all([call(a.url, "a1"), call(b.url, "b1")])).toEqual(["a1", "b1"]);
      expect(as.refreshes - refreshes).toBe(1);
      expect(as.replays).toBe(0);
      expect(await Promise.all([call(a.url, "a2"), call(b.url, "b2")])).toEqual(["a2", "b2"]);
    } finally {
      await Promise.all([protectedUpstream.stop(), as.stop()]);
    }
  });

  test("a key revoked on one replica stops at the other's MCP endpoint, although that replica had just checked it", async () => {
    const created = await api(a.url, key)("POST", "/api/v1/keys", { name: "agent" });
    const agentKey = created.json.key as string;
    const client = await connectClient(b.url, agentKey);
    try {
      expect((await client.callTool({ name: "gateway__list_connections", arguments: {} })).isError).toBeFalsy();
      expect((await api(a.url, key)("DELETE", `/api/v1/keys/${created.json.id}`)).status).toBe(204);
      // B heard A's NOTIFY (its own memory would have kept the key for a minute).
      await waitFor(async () => (await mcpStatus(b.url, agentKey)) === 401);
    } finally {
      await client.close().catch(() => undefined);
    }
  });
});
