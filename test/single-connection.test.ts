import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client, StreamableHTTPClientTransport, UnauthorizedError, type Tool } from "@modelcontextprotocol/client";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { newClient, TestOAuthProvider } from "./helpers/mcp-oauth-client.ts";
import { nextLocation } from "./helpers/continue.ts";
import { mintSessionId, verifySessionId } from "../src/gateway/session-ids.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api, connectClient, ERAS, type Era } from "./helpers/client.ts";
import { addMember, addOtherTenant } from "./helpers/members.ts";
import { startConformanceUpstream, type ConformanceUpstream } from "./helpers/conformance-upstream.ts";
import { waitFor } from "./helpers/wait.ts";

// A name the workspace endpoint has to shorten (a space, a slash, a colon): here it keeps its own.
const ODD = "weird name/with:chars";
const ALPHA_TOOLS = ["echo", "add", "progress", "fail", "image", ODD];

/** The real SDK client straight to an upstream, in the given era: what the gateway must look like. */
async function connectDirect(url: string, era: Era): Promise<Client> {
  const client = new Client(
    { name: "direct", version: "1.0.0" },
    (era === "2026-07-28" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : { supportedProtocolVersions: [era] }) as ConstructorParameters<typeof Client>[1],
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

const byName = (tools: Tool[]): Tool[] => tools.toSorted((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/**
 * A call result without the key the 2026-07-28 revision's servers stamp on results: the gateway's own
 * link to the upstream speaks that revision, so a 2025 client through it sees the stamp where a 2025
 * client straight to the upstream does not (what the gateway relays of a result's _meta is issue 14's item 7).
 */
function unstamped(result: Record<string, unknown>): Record<string, unknown> {
  const meta = { ...(result._meta as Record<string, unknown> | undefined) };
  delete meta["io.modelcontextprotocol/serverInfo"];
  const { _meta: _, ...rest } = result;
  return Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : rest;
}

const initialize = (protocolVersion = "2025-11-25") => ({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

for (const dialect of dialects) {
  describe(`one connection at its own URL on ${dialect}`, () => {
    let t: TestGateway;
    let key: string;
    let workspaceId: string;
    let alpha: Upstream;
    let beta: Upstream;
    let fixture: ConformanceUpstream;
    const post = (path: string, body: object, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${t.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}`, ...headers },
        body: JSON.stringify(body),
      });

    beforeAll(async () => {
      [t, alpha, beta, fixture] = await Promise.all([startTestGateway({ dialect }), startUpstream({ tools: ALPHA_TOOLS }), startUpstream({ tools: ["echo", "slow"] }), startConformanceUpstream()]);
      ({ key, workspaceId } = await seedOwner(t));
      const call = api(t.url, key);
      expect((await call("POST", "/api/v1/connections", { name: "alpha", url: alpha.url })).status).toBe(201);
      expect((await call("POST", "/api/v1/connections", { name: "beta", url: beta.url })).status).toBe(201);
      expect((await call("POST", "/api/v1/connections", { name: "conformance", url: fixture.url })).status).toBe(201);
    });
    afterAll(async () => {
      await Promise.all([t.stop(), alpha.stop(), beta.stop(), fixture.stop()]);
    });

    for (const era of ERAS) {
      test(`${era}: tools/list at /api/v1/mcp/alpha is the upstream's own tools/list, names and fields alike`, async () => {
        const [through, direct] = await Promise.all([connectClient(t.url, key, era, { path: "/api/v1/mcp/alpha" }), connectDirect(alpha.url, era)]);
        try {
          const [seen, own] = await Promise.all([through.listTools(), direct.listTools()]);
          expect(own.tools.map((tool) => tool.name)).toContain(ODD);
          expect(byName(seen.tools)).toEqual(byName(own.tools));
        } finally {
          await Promise.all([through.close(), direct.close()]);
        }
      });

      test(`${era}: a call by the upstream's own name answers as the upstream does, and is in the access log under the connection`, async () => {
        const [through, direct] = await Promise.all([connectClient(t.url, key, era, { path: "/api/v1/mcp/alpha" }), connectDirect(alpha.url, era)]);
        const message = `hello ${era}`;
        try {
          const [seen, own] = await Promise.all([through.callTool({ name: "echo", arguments: { message } }), direct.callTool({ name: "echo", arguments: { message } })]);
          expect(unstamped(seen)).toEqual(unstamped(own));
          expect((await through.callTool({ name: ODD, arguments: {} })).content).toEqual([{ type: "text", text: `${ODD} ok` }]);
          const failed = await through.callTool({ name: "fail", arguments: {} });
          expect(unstamped(failed)).toEqual(unstamped(await direct.callTool({ name: "fail", arguments: {} })));
        } finally {
          await Promise.all([through.close(), direct.close()]);
        }
        await t.gateway.deps.accessLog.flush();
        const logged = await api(t.url, key)("GET", "/api/v1/access-log?tool=echo&limit=50");
        const entries = logged.json.entries as { connectionName: string; tool: string; outcome: string }[];
        expect(entries.length).toBeGreaterThan(0);
        expect(entries[0]).toMatchObject({ connectionName: "alpha", tool: "echo", outcome: "ok" });
        const odd = await api(t.url, key)("GET", `/api/v1/access-log?tool=${encodeURIComponent(ODD)}&limit=5`);
        expect((odd.json.entries as { connectionName: string }[])[0]).toMatchObject({ connectionName: "alpha", tool: ODD, outcome: "ok" });
      });
    }

    for (const era of ["2026-07-28", "2025-11-25"] as const) {
      test(`${era}: the conformance fixture's tools/list (JSON Schema 2020-12 keywords included) is its own at its URL, and its calls answer as it does`, async () => {
        const [through, direct] = await Promise.all([connectClient(t.url, key, era, { path: "/api/v1/mcp/conformance" }), connectDirect(fixture.url, era)]);
        try {
          const [seen, own] = await Promise.all([through.listTools(), direct.listTools()]);
          expect(own.tools.find((tool) => tool.name === "json_schema_2020_12_tool")?.inputSchema).toHaveProperty("$defs");
          expect(byName(seen.tools)).toEqual(byName(own.tools));
          for (const name of ["test_simple_text", "test_image_content", "test_audio_content", "test_embedded_resource", "test_multiple_content_types", "test_error_handling"]) {
            const [a, b] = await Promise.all([through.callTool({ name, arguments: {} }), direct.callTool({ name, arguments: {} })]);
            expect(unstamped(a)).toEqual(unstamped(b));
          }
        } finally {
          await Promise.all([through.close(), direct.close()]);
        }
      });
    }

    test("a per-member connection there works as on the workspace endpoint: a member without an account is told to connect it", async () => {
      const member = await addMember(t, workspaceId, "member@example.com", { password: "member password" });
      const upstream = await startUpstream({ auth: { kind: "bearers", tokens: ["tok-owner-1", "tok-member-2"] }, tools: ["echo"] });
      try {
        const added = await api(t.url, key)("POST", "/api/v1/connections", { name: "crm", url: upstream.url, sharing: "per_member", auth: { kind: "bearer", token: "tok-owner-1" } });
        expect(added.status).toBe(201);
        const id = (added.json.connection as { id: string }).id;
        const client = await connectClient(t.url, member.key, "2025-11-25", { path: "/api/v1/mcp/crm" });
        try {
          expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(["echo"]);
          const before = upstream.calls;
          const refused = await client.callTool({ name: "echo", arguments: { message: "hi" } });
          expect(refused.isError).toBe(true);
          expect(JSON.stringify(refused.content)).toContain("Connect your account in the gateway dashboard");
          expect(upstream.calls).toBe(before);
          expect((await member.call("PUT", `/api/v1/connections/${id}/my-account`, { secret: "tok-member-2" })).status).toBe(200);
          expect((await client.callTool({ name: "echo", arguments: { message: "hi" } })).content).toEqual([{ type: "text", text: "hi" }]);
          // With the member's own token.
          expect(upstream.requests.filter((r) => r.method === "tools/call").at(-1)?.authorization).toBe("Bearer tok-member-2");
        } finally {
          await client.close();
        }
      } finally {
        await upstream.stop();
      }
    });

    test("no gateway__ tools and no other connection's tool there, by either of its names", async () => {
      const client = await connectClient(t.url, key, "2026-07-28", { path: "/api/v1/mcp/alpha" });
      try {
        const names = (await client.listTools()).tools.map((tool) => tool.name);
        expect(names.toSorted()).toEqual(ALPHA_TOOLS.toSorted());
        const callsBefore = beta.calls;
        // beta's slow: by its own name and by the workspace endpoint's name; and the gateway's own tools.
        for (const name of ["slow", "beta__slow", "gateway__call_tool", "gateway__list_connections", "alpha__echo"]) {
          const refused = await client.callTool({ name, arguments: { ms: 1, name: "beta__slow", arguments: { ms: 1 } } }).then(
            () => null,
            (error: unknown) => error,
          );
          expect(String(refused)).toContain(`Unknown tool: ${name}`);
        }
        expect(beta.calls).toBe(callsBefore);
      } finally {
        await client.close();
      }
      // The refusals are recorded, against the connection they were asked of.
      await t.gateway.deps.accessLog.flush();
      const logged = await api(t.url, key)("GET", "/api/v1/access-log?tool=beta__slow&limit=5");
      expect((logged.json.entries as unknown[])[0]).toMatchObject({ connectionName: "alpha", tool: "beta__slow", outcome: "denied" });
      // The workspace endpoint still serves both, prefixed, beside the gateway's own tools.
      const workspace = await connectClient(t.url, key, "2026-07-28");
      try {
        const names = (await workspace.listTools()).tools.map((tool) => tool.name);
        expect(names).toContain("alpha__echo");
        expect(names).toContain("beta__slow");
        expect(names).toContain("gateway__call_tool");
      } finally {
        await workspace.close();
      }
    });

    test("no key: 401 with the challenge that leads an OAuth client to the gateway; a bad key: invalid_token", async () => {
      const response = await post("/api/v1/mcp/alpha", initialize(), { authorization: "" });
      expect(response.status).toBe(401);
      const challenge = response.headers.get("www-authenticate")!;
      const metadataUrl = challenge.match(/resource_metadata="([^"]+)"/)?.[1];
      // One protected resource: the MCP endpoint, whose tokens serve each connection's URL under it.
      expect(metadataUrl).toBe(`${t.url}/.well-known/oauth-protected-resource/api/v1/mcp`);
      const metadata = (await (await fetch(metadataUrl!)).json()) as { resource: string };
      expect(`${t.url}/api/v1/mcp/alpha`.startsWith(`${metadata.resource}/`)).toBe(true);
      const bad = await post("/api/v1/mcp/alpha", initialize(), { authorization: "Bearer mgw_wrongwrongwrong" });
      expect(bad.status).toBe(401);
      expect(bad.headers.get("www-authenticate")).toContain('error="invalid_token"');
      // Unknown connections answer 401 too without a key: nobody learns the names without one.
      expect((await post("/api/v1/mcp/nosuch", initialize(), { authorization: "" })).status).toBe(401);
    });

    test("an OAuth client given only a connection's URL discovers the gateway, is authorized for the MCP endpoint, and gets that connection's tools", async () => {
      const cookie = await signIn(t);
      const url = new URL(`${t.url}/api/v1/mcp/alpha`);
      const provider = new TestOAuthProvider();
      const first = new StreamableHTTPClientTransport(url, { authProvider: provider });
      const refused = await newClient()
        .connect(first)
        .then(() => null, (error: unknown) => error);
      expect(refused).toBeInstanceOf(UnauthorizedError);
      const authorizationUrl = provider.authorizationUrl!;
      expect(authorizationUrl.searchParams.get("resource")).toBe(`${t.url}/api/v1/mcp`);
      // The member's browser: the consent page, then Allow.
      expect((await fetch(authorizationUrl, { headers: { cookie }, redirect: "manual" })).status).toBe(200);
      const form = new URLSearchParams(authorizationUrl.searchParams);
      form.set("decision", "approve");
      const answer = await fetch(`${t.url}/oauth/authorize`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, origin: t.url, "content-type": "application/x-www-form-urlencoded" },
        body: form,
      });
      await first.finishAuth(new URL((await nextLocation(answer))!).searchParams);
      const client = newClient();
      await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
      try {
        expect((await client.listTools()).tools.map((tool) => tool.name).toSorted()).toEqual(ALPHA_TOOLS.toSorted());
      } finally {
        await client.close();
      }
    });

    test("an unknown connection, another workspace's, or a name no connection can have: 404 with a JSON-RPC error saying so", async () => {
      for (const era of ["2025-11-25", "2026-07-28"] as const) {
        const body = era === "2026-07-28" ? { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} } : initialize(era);
        const response = await post("/api/v1/mcp/nosuch", body, { "mcp-protocol-version": era });
        expect(response.status).toBe(404);
        const answer = (await response.json()) as { error: { code: number; message: string } };
        expect(answer.error.message).toContain('no connection named "nosuch"');
      }
      const other = await addOtherTenant(t);
      // alpha exists, in the first workspace only.
      const foreign = await post("/api/v1/mcp/alpha", initialize(), { authorization: `Bearer ${other.key}` });
      expect(foreign.status).toBe(404);
      const odd = await post("/api/v1/mcp/Not%20A%20Name", initialize());
      expect(odd.status).toBe(404);
      expect(((await odd.json()) as { error: { message: string } }).error.message).not.toContain("Not");
      // Deeper paths are not MCP URLs at all.
      expect((await post("/api/v1/mcp/alpha/extra", initialize())).status).toBe(404);
      // A foreign browser origin is refused before anything else, as on the workspace endpoint.
      expect((await post("/api/v1/mcp/alpha", initialize(), { origin: "https://evil.example" })).status).toBe(403);
    });

    test("a 2025 session begun at one connection's URL is not served at another URL", async () => {
      const opened = await post("/api/v1/mcp/alpha", initialize());
      expect(opened.status).toBe(200);
      const sessionId = opened.headers.get("mcp-session-id")!;
      expect(sessionId).toBeTruthy();
      const headers = { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" };
      const list = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} };
      expect((await post("/api/v1/mcp/beta", list, headers)).status).toBe(404);
      expect((await post("/api/v1/mcp", list, headers)).status).toBe(404);
      expect((await post("/api/v1/mcp/alpha", list, headers)).status).toBe(200);
    });

    test("list_changed reaches a 2025 session and a 2026 listener on the connection's URL", async () => {
      let legacyHeard = 0;
      let modernHeard = 0;
      const listening = t.gateway.deps.mcp.held().streams;
      const legacy = await connectClient(t.url, key, "2025-11-25", { path: "/api/v1/mcp/beta", onToolsChanged: () => legacyHeard++ });
      const modern = await connectClient(t.url, key, "2026-07-28", { path: "/api/v1/mcp/beta", onToolsChanged: () => modernHeard++ });
      try {
        await waitFor(() => t.gateway.deps.mcp.held().streams >= listening + 2, { what: "both clients' notification streams" });
        const id = ((await api(t.url, key)("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[]).find((c) => c.name === "beta")!.id;
        expect((await api(t.url, key)("PATCH", `/api/v1/connections/${id}/tools/slow`, { enabled: false })).status).toBe(200);
        await waitFor(() => legacyHeard > 0 && modernHeard > 0, { what: "list_changed on both eras" });
        expect((await legacy.listTools()).tools.map((tool) => tool.name)).toEqual(["echo"]);
        // Turned off: still this connection's tool, so the call says why instead of "unknown".
        const refused = await modern.callTool({ name: "slow", arguments: { ms: 1 } });
        expect(refused.isError).toBe(true);
        expect(JSON.stringify(refused.content)).toContain("turned off");
        await api(t.url, key)("PATCH", `/api/v1/connections/${id}/tools/slow`, { enabled: true });
        expect((await modern.listTools()).tools.map((tool) => tool.name).toSorted()).toEqual(["echo", "slow"]);
      } finally {
        await Promise.all([legacy.close(), modern.close()]);
      }
    });
  });
}

test("a 2025 session id verifies only for the URL it was minted at; ids of the workspace endpoint are as before", async () => {
  const key = await crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(32)), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const workspace = { workspaceId: "w1", holderKey: "k1" };
  const alphaId = await mintSessionId(key, { ...workspace, view: "alpha" });
  expect(await verifySessionId(key, alphaId, { ...workspace, view: "alpha" })).toBe(true);
  expect(await verifySessionId(key, alphaId, { ...workspace, view: "beta" })).toBe(false);
  expect(await verifySessionId(key, alphaId, workspace)).toBe(false);
  const workspaceId = await mintSessionId(key, workspace);
  expect(await verifySessionId(key, workspaceId, workspace)).toBe(true);
  expect(await verifySessionId(key, workspaceId, { ...workspace, view: "alpha" })).toBe(false);
});
