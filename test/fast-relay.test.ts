import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api } from "./helpers/client.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { startFaithfulUpstream, type FaithfulUpstream } from "./helpers/faithful-upstream.ts";
import { fastCallOf, fastListOf } from "../src/gateway/fast-call.ts";

/**
 * The fast relay (src/gateway/fast-call.ts) answers plain 2026-07-28 tools/calls without the SDK's
 * server. What a client receives must not tell the two apart: the same request goes to a gateway
 * with it on and one with FAST_RELAY=off, and the answers are compared as the client reads them.
 */
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "raw-client", version: "1.0.0" },
  "io.modelcontextprotocol/clientCapabilities": {},
};

type Raw = { status: number; type: string | null; body: unknown };

function callRequest(url: string, key: string, name: string, args: unknown, options: { id?: string | number; meta?: Record<string, unknown>; headers?: Record<string, string> } = {}): Request {
  const body = { jsonrpc: "2.0", id: options.id ?? 7, method: "tools/call", params: { name, arguments: args, _meta: { ...ENVELOPE, ...options.meta } } };
  return new Request(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": "tools/call",
      "mcp-name": name,
      ...options.headers,
    },
    body: JSON.stringify(body),
  });
}

function listRequest(url: string, key: string, options: { id?: string | number; params?: Record<string, unknown>; meta?: Record<string, unknown>; headers?: Record<string, string> } = {}): Request {
  const body = { jsonrpc: "2.0", id: options.id ?? 8, method: "tools/list", params: { ...options.params, _meta: { ...ENVELOPE, ...options.meta } } };
  return new Request(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": "tools/list",
      ...options.headers,
    },
    body: JSON.stringify(body),
  });
}

async function send(request: Request): Promise<Raw> {
  const response = await fetch(request);
  const text = await response.text();
  return { status: response.status, type: response.headers.get("content-type"), body: text === "" ? null : JSON.parse(text) };
}

for (const dialect of dialects) {
  describe(`the fast relay, on ${dialect}`, () => {
    let fast: TestGateway;
    let sdk: TestGateway;
    let keys: { fast: string; sdk: string };
    let upstream: Upstream;
    let faithful: FaithfulUpstream;

    beforeAll(async () => {
      [fast, sdk, upstream, faithful] = await Promise.all([startTestGateway({ dialect }), startTestGateway({ dialect, env: { FAST_RELAY: "off" } }), startUpstream(), startFaithfulUpstream()]);
      keys = { fast: (await seedOwner(fast)).key, sdk: (await seedOwner(sdk)).key };
      for (const [t, key] of [[fast, keys.fast], [sdk, keys.sdk]] as const) {
        const call = api(t.url, key);
        expect((await call("POST", "/api/v1/connections", { name: "fixture", url: upstream.url })).status).toBe(201);
        expect((await call("POST", "/api/v1/connections", { name: "faithful", url: faithful.url })).status).toBe(201);
      }
    });

    afterAll(async () => {
      await Promise.all([fast?.stop(), sdk?.stop(), upstream?.stop(), faithful?.stop()]);
    });

    /** The same request to both gateways: what each answered. */
    async function both(path: string, name: string, args: unknown, options: Parameters<typeof callRequest>[4] = {}): Promise<{ fast: Raw; sdk: Raw; taken: boolean }> {
      const request = callRequest(`${fast.url}${path}`, keys.fast, name, args, options);
      const taken = fastCallOf(request.clone(), JSON.parse(await request.clone().text())) !== null;
      return { fast: await send(request), sdk: await send(callRequest(`${sdk.url}${path}`, keys.sdk, name, args, options)), taken };
    }

    /** The same tools/list to both gateways. */
    async function bothLists(path: string, options: Parameters<typeof listRequest>[2] = {}): Promise<{ fast: Raw; sdk: Raw; taken: boolean }> {
      const request = listRequest(`${fast.url}${path}`, keys.fast, options);
      const taken = fastListOf(request.clone(), JSON.parse(await request.clone().text())) !== null;
      return { fast: await send(request), sdk: await send(listRequest(`${sdk.url}${path}`, keys.sdk, options)), taken };
    }

    test("tools/list is answered as the SDK answers it, in the workspace and in one connection's view, and follows changes", async () => {
      for (const path of ["/api/v1/mcp", "/api/v1/mcp/fixture", "/api/v1/mcp/faithful"]) {
        for (const id of [1, "list-a"]) {
          const answer = await bothLists(path, { id });
          expect(answer.taken).toBe(true);
          expect(answer.fast).toEqual(answer.sdk);
          expect(answer.fast.status).toBe(200);
          expect(answer.fast.body).toMatchObject({ jsonrpc: "2.0", id, result: { resultType: "complete" } });
        }
      }
      const names = (raw: Raw): string[] => ((raw.body as { result: { tools: { name: string }[] } }).result.tools).map((tool) => tool.name);
      const before = await bothLists("/api/v1/mcp");
      expect(names(before.fast)).toContain("fixture__add");
      // A tool turned off leaves the list at once (a new index, so a new answer), on both paths.
      const toggle = async (enabled: boolean): Promise<void> => {
        for (const [t, key] of [[fast, keys.fast], [sdk, keys.sdk]] as const) {
          const call = api(t.url, key);
          const id = ((await call("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[]).find((c) => c.name === "fixture")!.id;
          expect((await call("PATCH", `/api/v1/connections/${id}/tools/add`, { enabled })).status).toBe(200);
        }
      };
      await toggle(false);
      try {
        for (const path of ["/api/v1/mcp", "/api/v1/mcp/fixture"]) {
          const off = await bothLists(path);
          expect(off.taken).toBe(true);
          expect(off.fast).toEqual(off.sdk);
          expect(names(off.fast)).not.toContain(path === "/api/v1/mcp" ? "fixture__add" : "add");
        }
      } finally {
        await toggle(true);
      }
      const again = await bothLists("/api/v1/mcp");
      expect(again.fast).toEqual(again.sdk);
      expect(names(again.fast)).toContain("fixture__add");
    });

    test("a tools/list with a cursor, another _meta key or headers that disagree goes to the SDK", async () => {
      const cases: Parameters<typeof listRequest>[2][] = [
        { params: { cursor: "abc" } },
        { meta: { progressToken: 3 } },
        { meta: { "io.modelcontextprotocol/clientInfo": "me" } },
        { headers: { "mcp-method": "tools/call" } },
        { headers: { "mcp-name": "x" } },
      ];
      for (const options of cases) {
        const answer = await bothLists("/api/v1/mcp", options);
        expect(answer.taken).toBe(false);
        expect(answer.fast).toEqual(answer.sdk);
      }
    });

    test("a plain call, a tool error, an upstream's JSON-RPC error and an unknown tool are answered as the SDK answers them", async () => {
      const cases: [string, unknown][] = [
        ["fixture__echo", { message: "hello" }],
        ["fixture__fail", {}],
        ["fixture__throw", {}],
        ["faithful__rpc_error", {}],
        ["fixture__nope", {}],
        ["gateway__search_tools", { query: "echo" }],
      ];
      for (const [name, args] of cases) {
        const answer = await both("/api/v1/mcp", name, args);
        // A control: these are requests the fast relay takes.
        expect(answer.taken).toBe(true);
        expect(answer.fast).toEqual(answer.sdk);
        expect(answer.fast.status).toBe(200);
      }
      const echoed = await both("/api/v1/mcp", "fixture__echo", { message: "hello" }, { id: "call-1" });
      expect(echoed.fast.body).toMatchObject({ jsonrpc: "2.0", id: "call-1", result: { content: [{ type: "text", text: "hello" }], structuredContent: { message: "hello" }, resultType: "complete" } });
      const refused = await both("/api/v1/mcp", "faithful__rpc_error", {});
      expect(refused.fast.body).toMatchObject({ error: { code: -32050, message: "the fixture refused: quota exceeded", data: { retryAfterSeconds: 30 } } });
    });

    test("the client's own _meta reaches the upstream, the protocol's envelope does not, on both paths", async () => {
      faithful.metas.length = 0;
      const answer = await both("/api/v1/mcp", "faithful__meta_echo", {}, { meta: { "acme.example/trace": "t-1" } });
      expect(answer.taken).toBe(true);
      expect(answer.fast).toEqual(answer.sdk);
      expect(faithful.metas).toHaveLength(2);
      for (const meta of faithful.metas) {
        expect(meta["acme.example/trace"]).toBe("t-1");
        expect(meta["io.modelcontextprotocol/clientInfo"]).not.toEqual(ENVELOPE["io.modelcontextprotocol/clientInfo"]);
      }
    });

    test("a _meta key named __proto__ is passed on as a key on both paths, polluting nothing", async () => {
      faithful.metas.length = 0;
      const meta = JSON.parse('{"__proto__": {"polluted": true}, "acme.example/n": 1}') as Record<string, unknown>;
      const answer = await both("/api/v1/mcp", "faithful__meta_echo", {}, { meta });
      expect(answer.taken).toBe(true);
      expect(answer.fast).toEqual(answer.sdk);
      expect(faithful.metas).toHaveLength(2);
      expect(JSON.stringify(faithful.metas[0])).toBe(JSON.stringify(faithful.metas[1]));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    test("one connection's URL resolves names as that view does", async () => {
      for (const name of ["echo", "fixture__echo", "rich"]) {
        const answer = await both("/api/v1/mcp/fixture", name, { message: "view" });
        expect(answer.taken).toBe(true);
        expect(answer.fast).toEqual(answer.sdk);
      }
    });

    test("headers that disagree with the body, or a body the SDK refuses, get the SDK's refusal", async () => {
      const mismatched = await both("/api/v1/mcp", "fixture__echo", { message: "x" }, { headers: { "mcp-name": "fixture__add" } });
      expect(mismatched.taken).toBe(false);
      expect(mismatched.fast).toEqual(mismatched.sdk);
      expect(mismatched.fast.status).toBeGreaterThanOrEqual(400);
      const badArguments = await both("/api/v1/mcp", "fixture__echo", ["not", "an", "object"]);
      expect(badArguments.taken).toBe(false);
      expect(badArguments.fast).toEqual(badArguments.sdk);
      expect(JSON.stringify(badArguments.fast.body)).toContain("error");
      const badEnvelope = await both("/api/v1/mcp", "fixture__echo", { message: "x" }, { meta: { "io.modelcontextprotocol/clientInfo": "me" } });
      expect(badEnvelope.taken).toBe(false);
      expect(badEnvelope.fast).toEqual(badEnvelope.sdk);
    });

    test("every fast call is in the access log, as on the SDK's path", async () => {
      const before = await rows(fast, keys.fast);
      await both("/api/v1/mcp", "fixture__echo", { message: "logged" });
      await both("/api/v1/mcp", "fixture__nope", {});
      const after = await rows(fast, keys.fast);
      const count = (list: { tool: string; outcome: string }[], tool: string, outcome: string): number => list.filter((row) => row.tool === tool && row.outcome === outcome).length;
      expect(after.length - before.length).toBe(2);
      expect(count(after, "echo", "ok") - count(before, "echo", "ok")).toBe(1);
      expect(count(after, "fixture__nope", "denied") - count(before, "fixture__nope", "denied")).toBe(1);
    });
  });
}

async function rows(t: TestGateway, key: string): Promise<{ tool: string; outcome: string }[]> {
  // The access log is written in batches: what is queued is flushed first.
  await t.gateway.deps.accessLog.flush();
  const answer = await api(t.url, key)("GET", "/api/v1/access-log?limit=200");
  return answer.json.entries as { tool: string; outcome: string }[];
}
