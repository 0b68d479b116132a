import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createMcpHandler, fromJsonSchema, McpServer } from "@modelcontextprotocol/server";
import { createApiKey } from "../src/accounts/api-keys.ts";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api, connectClient, mcpPingStatus } from "./helpers/client.ts";
import { addOtherTenant } from "./helpers/members.ts";

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

for (const dialect of dialects) {
  describe(`MCP endpoint edges on ${dialect}`, () => {
    let t: TestGateway;
    let key: string;
    let upstream: Upstream;
    const post = (body: string | object, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${t.url}/api/v1/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}`, ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });

    beforeAll(async () => {
      [t, upstream] = await Promise.all([startTestGateway({ dialect }), startUpstream({ tools: ["echo"] })]);
      key = (await seedOwner(t)).key;
      await api(t.url, key)("POST", "/api/v1/connections", { name: "alpha", url: upstream.url });
    });
    afterAll(async () => {
      await Promise.all([t.stop(), upstream.stop()]);
    });

    test("no key: 401 with a WWW-Authenticate that points at the RFC 9728 metadata document", async () => {
      const response = await post(initialize, { authorization: "" });
      expect(response.status).toBe(401);
      const challenge = response.headers.get("www-authenticate")!;
      expect(challenge).toStartWith("Bearer ");
      const metadataUrl = challenge.match(/resource_metadata="([^"]+)"/)?.[1];
      expect(metadataUrl).toBe(`${t.url}/.well-known/oauth-protected-resource/api/v1/mcp`);
      const metadata = (await (await fetch(metadataUrl!)).json()) as Record<string, unknown>;
      expect(metadata.resource).toBe(`${t.url}/api/v1/mcp`);
      expect(metadata.bearer_methods_supported).toEqual(["header"]);
    });

    test("a wrong or revoked key: 401 invalid_token", async () => {
      const response = await post(initialize, { authorization: "Bearer mgw_wrongwrongwrong" });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    });

    test("a foreign browser Origin: 403; our own origin is fine", async () => {
      expect((await post(initialize, { origin: "https://evil.example" })).status).toBe(403);
      expect((await post(initialize, { origin: t.url })).status).toBe(200);
    });

    test("an oversized body: 413", async () => {
      const big = JSON.stringify({ ...initialize, params: { ...initialize.params, pad: "x".repeat(t.config.maxBodyBytes + 10) } });
      const response = await post(big);
      expect(response.status).toBe(413);
    });

    test("malformed JSON and invalid JSON-RPC get the errors the spec names", async () => {
      const parse = await post("{not json");
      expect(parse.status).toBe(400);
      expect(((await parse.json()) as { error: { code: number } }).error.code).toBe(-32700);
      const invalid = await post({ jsonrpc: "2.0", id: 1, params: {} });
      expect(invalid.status).toBeGreaterThanOrEqual(400);
      expect(((await invalid.json()) as { error: { code: number } }).error.code).toBeOneOf([-32600, -32602]);
    });

    test("the endpoint remembers a checked key, yet a revoked key stops at once and an expiring one never outlives its expiry", async () => {
      // A minute of memory: only the revocation itself can make the gateway forget the key sooner.
      const remembering = await startTestGateway({ dialect, env: { AUTH_CACHE_MS: "60000" } });
      try {
        const owner = await seedOwner(remembering);
        const created = await api(remembering.url, owner.key)("POST", "/api/v1/keys", { name: "agent" });
        const agentKey = created.json.key as string;
        expect(await mcpPingStatus(remembering.url, agentKey)).toBe(200);
        expect(await mcpPingStatus(remembering.url, agentKey)).toBe(200);
        expect((await api(remembering.url, owner.key)("DELETE", `/api/v1/keys/${created.json.id}`)).status).toBe(204);
        expect(await mcpPingStatus(remembering.url, agentKey)).toBe(401);

        const { database } = remembering.gateway.deps;
        const [workspace] = await database.db.select().from(database.t.workspaces);
        const [user] = await database.db.select().from(database.t.users);
        const expiresAt = remembering.clock.now() + 400;
        const expiring = await createApiKey(database, { workspaceId: workspace!.id, userId: user!.id, name: "expiring", expiresAt });
        if (!expiring.ok) throw new Error("key");
        expect(await mcpPingStatus(remembering.url, expiring.key)).toBe(200);
        // Past the expiry on the gateway's clock, well inside the minute of memory: refused all the same.
        remembering.clock.advancePast(expiresAt);
        expect(await mcpPingStatus(remembering.url, expiring.key)).toBe(401);
      } finally {
        await remembering.stop();
      }
    });

    test("a session id is not a credential: another key cannot use it", async () => {
      const first = await post(initialize);
      const sessionId = first.headers.get("mcp-session-id");
      expect(sessionId).toBeTruthy();
      const { database } = t.gateway.deps;
      const [owner] = await database.db.select().from(database.t.users);
      const other = await createApiKey(database, { workspaceId: (await database.db.select().from(database.t.workspaces))[0]!.id, userId: owner!.id, name: "other" });
      if (!other.ok) throw new Error("key");
      const hijack = await post({ jsonrpc: "2.0", id: 2, method: "tools/list" }, { authorization: `Bearer ${other.key}`, "mcp-session-id": sessionId!, "mcp-protocol-version": "2025-11-25" });
      expect(hijack.status).toBe(404);
      const noKey = await post({ jsonrpc: "2.0", id: 2, method: "tools/list" }, { authorization: "", "mcp-session-id": sessionId!, "mcp-protocol-version": "2025-11-25" });
      expect(noKey.status).toBe(401);
    });

    test("a long or odd upstream tool name is shortened deterministically and still routes", async () => {
      const long = `do_${"x".repeat(80)}`;
      const odd = "weird name/with:chars";
      upstream.setTools(["echo", long, odd]);
      const id = ((await api(t.url, key)("GET", "/api/v1/connections")).json.connections as { id: string }[])[0]!.id;
      await api(t.url, key)("POST", `/api/v1/connections/${id}/sync`);
      const client = await connectClient(t.url, key);
      try {
        const names = (await client.listTools()).tools.map((x) => x.name).filter((n) => n.startsWith("alpha__"));
        expect(names).toHaveLength(3);
        for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
        const shortened = names.find((n) => n.startsWith("alpha__do_x"))!;
        expect(shortened.length).toBe(64);
        const result = await client.callTool({ name: shortened, arguments: {} });
        expect(result.content).toEqual([{ type: "text", text: `${long} ok` }]);
        const weird = names.find((n) => n.startsWith("alpha__weird"))!;
        expect((await client.callTool({ name: weird, arguments: {} })).content).toEqual([{ type: "text", text: `${odd} ok` }]);
        // The admin API takes the upstream's own name, percent-encoded once.
        const toggled = await api(t.url, key)("PATCH", `/api/v1/connections/${id}/tools/${encodeURIComponent(odd)}`, { enabled: false });
        expect(toggled).toMatchObject({ status: 200, json: { tool: odd, enabled: false } });
        expect((await client.listTools()).tools.map((x) => x.name)).not.toContain(weird);
      } finally {
        await client.close();
        upstream.setTools(["echo"]);
        await api(t.url, key)("POST", `/api/v1/connections/${id}/sync`);
      }
    });

    test("a tool that declares x-mcp-header arguments (SEP-2243) gets them mirrored into Mcp-Param-* headers upstream", async () => {
      // McpServer refuses a 2026-07-28 call whose Mcp-Param-Region header is missing or disagrees
      // with the argument; the gateway's upstream client learns the declaration from the stored tool.
      const seen: (string | null)[] = [];
      const schema = { type: "object", properties: { region: { type: "string", "x-mcp-header": "Region" } }, required: ["region"] } as const;
      const handler = createMcpHandler(() => {
        const server = new McpServer({ name: "regional", version: "1.0.0" });
        server.registerTool("where", { description: "Says the region.", inputSchema: fromJsonSchema<{ region: string }>(schema) }, async ({ region }) => ({ content: [{ type: "text", text: `in ${region}` }] }));
        return server;
      });
      const regional = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: (request) => {
          if (request.headers.get("mcp-method") === "tools/call") seen.push(request.headers.get("mcp-param-region"));
          return handler.fetch(request);
        },
      });
      try {
        const created = await api(t.url, key)("POST", "/api/v1/connections", { name: "regional", url: `http://127.0.0.1:${regional.port}/mcp` });
        expect(created.status).toBe(201);
        const client = await connectClient(t.url, key);
        try {
          const result = await client.callTool({ name: "regional__where", arguments: { region: "eu-west-1" } });
          expect(result.isError).toBeFalsy();
          expect(result.content).toEqual([{ type: "text", text: "in eu-west-1" }]);
          expect(seen).toEqual(["eu-west-1"]);
        } finally {
          await client.close();
          await api(t.url, key)("DELETE", `/api/v1/connections/${(created.json.connection as { id: string }).id}`);
        }
      } finally {
        await regional.stop(true);
      }
    });

    test("workspace isolation: another workspace's key sees none of these connections, tools or log entries", async () => {
      const otherKey = await addOtherTenant(t);
      const asB = api(t.url, otherKey.key);
      const aConnections = (await api(t.url, key)("GET", "/api/v1/connections")).json.connections as { id: string }[];
      expect((await asB("GET", "/api/v1/connections")).json.connections).toEqual([]);
      expect((await asB("GET", `/api/v1/connections/${aConnections[0]!.id}`)).status).toBe(404);
      expect((await asB("DELETE", `/api/v1/connections/${aConnections[0]!.id}`)).status).toBe(404);
      expect((await asB("POST", `/api/v1/connections/${aConnections[0]!.id}/sync`)).status).toBe(404);
      const client = await connectClient(t.url, otherKey.key);
      try {
        const names = (await client.listTools()).tools.map((x) => x.name);
        expect(names.some((n) => n.startsWith("alpha__"))).toBe(false);
        await expect(client.callTool({ name: "alpha__echo", arguments: { message: "x" } })).rejects.toThrow(/Unknown tool/);
      } finally {
        await client.close();
      }
      await t.gateway.deps.accessLog.flush();
      const log = (await asB("GET", "/api/v1/access-log")).json.entries as { workspaceId: string; tool: string }[];
      expect(log.every((e) => e.workspaceId === otherKey.workspaceId)).toBe(true);
    });
  });
}
