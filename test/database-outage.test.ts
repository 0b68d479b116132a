import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import type { CallToolResult, Client } from "@modelcontextprotocol/client";
import { createPostgresDatabase, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startTcpProxy, type TcpProxy } from "./helpers/tcp-proxy.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api, connectClient } from "./helpers/client.ts";
import { waitFor } from "./helpers/wait.ts";

// A gateway on its own PostgreSQL database, reached through a relay the test can cut.
describe.skipIf(!process.env.TEST_DATABASE_URL)("while PostgreSQL is unreachable", () => {
  let gateway: TestGateway;
  let relay: TcpProxy;
  let upstream: Upstream;
  let database: { url: string; drop(): Promise<void> };
  let direct: SQL;
  let dataDir: string;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    direct = new SQL(database.url, { max: 1 });
    const real = new URL(database.url);
    relay = await startTcpProxy(real.hostname, Number(real.port || 5432));
    const relayed = new URL(database.url);
    relayed.port = String(relay.port);
    upstream = await startUpstream({ tools: ["echo"] });
    dataDir = mkdtempSync(join(tmpdir(), "mgw-outage-"));
    gateway = await startTestGateway({
      dialect: "postgres",
      reuse: { dataDir, databaseUrl: relayed.toString() },
      // Every request past the first millisecond asks the database again, and waits half a second
      // for it; a small memory queue, so that the access log's rows go to disk during the outage.
      env: { AUTH_CACHE_MS: "1", ACCESS_LOG_MEMORY_ROWS: "2", DATABASE_WAIT_MS: "500" },
    });
  });

  afterAll(async () => {
    relay?.restore();
    await gateway?.stop();
    relay?.stop();
    await upstream?.stop();
    await direct?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a recently used key still lists and calls tools, an unchecked key gets 503 with Retry-After, and every access-log row reaches the database afterwards", async () => {
    const { key } = await seedOwner(gateway);
    expect((await api(gateway.url, key)("POST", "/api/v1/connections", { name: "tools", url: upstream.url })).status).toBe(201);
    const unused = (await api(gateway.url, key)("POST", "/api/v1/keys", { name: "never used" })).json.key as string;
    let client: Client | null = await connectClient(gateway.url, key);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("tools__echo");
      expect(((await client.callTool({ name: "tools__echo", arguments: { message: "before" } })) as CallToolResult).content).toEqual([{ type: "text", text: "before" }]);

      relay.cut();
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("tools__echo");
      for (let i = 0; i < 5; i++) {
        const result = (await client.callTool({ name: "tools__echo", arguments: { message: `during ${i}` } })) as CallToolResult;
        expect(result.content).toEqual([{ type: "text", text: `during ${i}` }]);
      }
      // A new client with the same key connects too.
      const second = await connectClient(gateway.url, key);
      expect((await second.listTools()).tools.length).toBeGreaterThan(0);
      await second.close();

      for (const unknown of [unused, "mgw_this_key_was_never_issued_0000000000000000"]) {
        const refused = await fetch(`${gateway.url}/api/v1/mcp`, {
          method: "POST",
          headers: { authorization: `Bearer ${unknown}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
        });
        expect(refused.status).toBe(503);
        expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
        const body = (await refused.json()) as { error: { message: string } };
        expect(body.error.message).toMatch(/database/i);
        expect(body.error.message).not.toContain(unknown);
      }

      // More rows than memory holds: the rest wait on disk in the data folder.
      await waitFor(() => existsSync(join(dataDir, "access-log-queue.jsonl")), { timeoutMs: 5000, what: "the access log's queue on disk" });

      relay.restore();
      const count = async (): Promise<number> => Number((await direct`select count(*)::int as n from access_log where tool = 'echo'`)[0].n);
      await waitFor(async () => (await count()) >= 6, { timeoutMs: 15_000, what: "the queued access-log rows in the database" });
      expect(await count()).toBe(6);
      await waitFor(() => !existsSync(join(dataDir, "access-log-queue.jsonl")), { timeoutMs: 5000, what: "the disk queue replayed and removed" });
      expect(((await client.callTool({ name: "tools__echo", arguments: { message: "after" } })) as CallToolResult).content).toEqual([{ type: "text", text: "after" }]);
      await gateway.gateway.deps.accessLog.flush();
      expect(await count()).toBe(7);
    } finally {
      relay.restore();
      await client?.close().catch(() => undefined);
      client = null;
    }
  }, 60_000);
});
