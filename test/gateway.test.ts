import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { startEverything, type EverythingServer } from "./helpers/everything.ts";
import { api, connectClient, ERAS } from "./helpers/client.ts";
import { waitFor } from "./helpers/wait.ts";
import { text } from "./helpers/results.ts";

for (const dialect of dialects) {
  describe(`the unified MCP endpoint on ${dialect}`, () => {
    let t: TestGateway;
    let key: string;
    let call: ReturnType<typeof api>;
    let plain: Upstream;
    let bearer: Upstream;
    let header: Upstream;
    let everything: EverythingServer;

    beforeAll(async () => {
      [t, plain, bearer, header, everything] = await Promise.all([
        startTestGateway({ dialect }),
        startUpstream({ extraToolCount: 30, pageSize: 7 }),
        startUpstream({ auth: { kind: "bearer", token: "upstream-bearer-canary-7f3a" }, tools: ["echo", "add"] }),
        startUpstream({ auth: { kind: "header", header: "X-API-Key", value: "header-canary-91bd" }, tools: ["echo"] }),
        startEverything(),
      ]);
      key = (await seedOwner(t)).key;
      call = api(t.url, key);
    });
    afterAll(async () => {
      await Promise.all([t.stop(), plain.stop(), bearer.stop(), header.stop(), everything.stop()]);
    });

    test("connect servers by URL with no auth, a bearer token and a custom header; every page of tools is discovered", async () => {
      const a = await call("POST", "/api/v1/connections", { name: "fixture", url: plain.url, auth: { kind: "none" } });
      expect(a.status).toBe(201);
      expect((a.json.tools as string[]).length).toBe(8 + 30);
      const b = await call("POST", "/api/v1/connections", { name: "secure", url: bearer.url, auth: { kind: "bearer", token: "upstream-bearer-canary-7f3a" } });
      expect(b.status).toBe(201);
      const c = await call("POST", "/api/v1/connections", { name: "keyed", url: header.url, auth: { kind: "header", header: "X-API-Key", value: "header-canary-91bd" } });
      expect(c.status).toBe(201);
      const d = await call("POST", "/api/v1/connections", { name: "everything", url: everything.url });
      expect(d.status).toBe(201);
      const list = await call("GET", "/api/v1/connections");
      expect((list.json.connections as { name: string; status: string }[]).map((x) => [x.name, x.status])).toEqual([
        ["everything", "connected"],
        ["fixture", "connected"],
        ["keyed", "connected"],
        ["secure", "connected"],
      ]);
      expect(JSON.stringify(list.json)).not.toContain("canary");
    });

    test("bad connections are refused with a reason that says what to fix", async () => {
      const badName = await call("POST", "/api/v1/connections", { name: "Bad Name", url: plain.url });
      expect(badName.status).toBe(422);
      expect((badName.json.fields as Record<string, string>).name).toContain("lowercase letters");
      const reserved = await call("POST", "/api/v1/connections", { name: "gateway", url: plain.url });
      expect((reserved.json.fields as Record<string, string>).name).toContain("reserved");
      const duplicate = await call("POST", "/api/v1/connections", { name: "fixture", url: plain.url });
      expect((duplicate.json.fields as Record<string, string>).name).toContain("exists already");
      const wrongToken = await call("POST", "/api/v1/connections", { name: "nope", url: bearer.url, auth: { kind: "bearer", token: "wrong-token-here" } });
      expect(wrongToken.status).toBe(422);
      expect((wrongToken.json.fields as Record<string, string>).auth).toContain("This token was refused (401)");
      expect(JSON.stringify(wrongToken.json)).not.toContain("wrong-token-here");
      const unreachable = await call("POST", "/api/v1/connections", { name: "nope", url: "http://127.0.0.1:1/mcp" });
      expect((unreachable.json.fields as Record<string, string>).url).toContain("refused the connection");
      const notMcp = await call("POST", "/api/v1/connections", { name: "nope", url: `${t.url}/healthz` });
      expect((notMcp.json.fields as Record<string, string>).url).toMatch(/not look like|not valid MCP/);
      const metadata = await call("POST", "/api/v1/connections", { name: "nope", url: "http://169.254.169.254/latest/meta-data" });
      expect((metadata.json.fields as Record<string, string>).url).toContain("link-local");
      const names = ((await call("GET", "/api/v1/connections")).json.connections as { name: string }[]).map((c) => c.name);
      expect(names).not.toContain("nope");
    });

    for (const era of ERAS) {
      test(`a ${era} client sees native and namespaced tools and calls through the stored credential`, async () => {
        const client = await connectClient(t.url, key, era);
        try {
          const { tools } = await client.listTools();
          const names = tools.map((x) => x.name);
          for (const expected of ["gateway__list_connections", "gateway__search_tools", "gateway__call_tool", "fixture__echo", "fixture__tool_29", "secure__add", "keyed__echo", "everything__echo"]) {
            expect(names).toContain(expected);
          }
          const echoed = await client.callTool({ name: "secure__echo", arguments: { message: "hi from " + era } });
          expect(echoed.isError).toBeFalsy();
          expect(text(echoed)).toBe("hi from " + era);
          expect(echoed.structuredContent).toEqual({ message: "hi from " + era });
          expect(bearer.requests.at(-1)?.authorization).toBe("Bearer upstream-bearer-canary-7f3a");
          expect(bearer.requests.at(-1)?.authorization).not.toContain(key);
          const keyed = await client.callTool({ name: "keyed__echo", arguments: { message: "x" } });
          expect(text(keyed)).toBe("x");
          const ref = await client.callTool({ name: "everything__echo", arguments: { message: "ref" } });
          expect(text(ref)).toContain("ref");
        } finally {
          await client.close();
        }
      });
    }

    test("tool errors, images and upstream failures come back as results (an upstream's JSON-RPC error as that error), not broken transports", async () => {
      const client = await connectClient(t.url, key);
      try {
        const failed = await client.callTool({ name: "fixture__fail", arguments: {} });
        expect(failed.isError).toBe(true);
        expect(text(failed)).toBe("it failed on purpose");
        const image = await client.callTool({ name: "fixture__image", arguments: {} });
        expect(image.content.map((c) => c.type)).toEqual(["image", "text"]);
        // The upstream's own JSON-RPC error passes through as that error (issue 14), not as isError text.
        const thrown = client.callTool({ name: "fixture__throw", arguments: {} });
        await expect(thrown).rejects.toThrow("it threw on purpose");
        const unknown = client.callTool({ name: "fixture__nope", arguments: {} });
        await expect(unknown).rejects.toThrow(/Unknown tool/);
        // The transport is still fine afterwards.
        expect(text(await client.callTool({ name: "fixture__add", arguments: { a: 2, b: 3 } }))).toBe("5");
      } finally {
        await client.close();
      }
    });

    test("progress reaches the client as it happens; cancelling reaches the upstream", async () => {
      const client = await connectClient(t.url, key);
      try {
        const seen: number[] = [];
        const result = await client.callTool({ name: "fixture__progress", arguments: { steps: 4, delayMs: 20 } }, { onprogress: (p) => seen.push(p.progress) });
        expect(text(result)).toBe("done");
        expect(seen).toEqual([1, 2, 3, 4]);

        const controller = new AbortController();
        const reached = plain.calls;
        const hanging = client.callTool({ name: "fixture__hang", arguments: {} }, { signal: controller.signal });
        await waitFor(() => plain.calls > reached, { what: "the hanging call to reach the upstream" });
        controller.abort();
        await expect(hanging).rejects.toThrow();
        await waitFor(() => plain.cancelled.includes("hang"), { what: "the upstream to see the cancellation" });
      } finally {
        await client.close();
      }
    });

    test("a per-connection deadline ends a hung call with a sentence", async () => {
      const id = ((await call("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[]).find((c) => c.name === "fixture")!.id;
      expect((await call("PATCH", `/api/v1/connections/${id}`, { callTimeoutMs: 1000 })).status).toBe(200);
      const client = await connectClient(t.url, key);
      try {
        const started = Date.now();
        const result = await client.callTool({ name: "fixture__hang", arguments: {} });
        expect(Date.now() - started).toBeLessThan(5000);
        expect(result.isError).toBe(true);
        expect(text(result)).toContain("did not answer within 1 s");
        const status = (await call("GET", `/api/v1/connections/${id}`)).json.connection as { status: string; statusDetail: string };
        expect(status).toMatchObject({ status: "error", statusDetail: "the server did not answer in time" });
        // The next good call puts it back.
        expect(text(await client.callTool({ name: "fixture__add", arguments: { a: 1, b: 2 } }))).toBe("3");
        expect(((await call("GET", `/api/v1/connections/${id}`)).json.connection as { status: string }).status).toBe("connected");
      } finally {
        await client.close();
        await call("PATCH", `/api/v1/connections/${id}`, { callTimeoutMs: null });
      }
    });

    test("native tools list connections, search tools and call any tool", async () => {
      const client = await connectClient(t.url, key);
      try {
        const listed = await client.callTool({ name: "gateway__list_connections", arguments: {} });
        const connections = (listed.structuredContent as { connections: { name: string; tools: number; status: string }[] }).connections;
        expect(connections.find((c) => c.name === "fixture")).toMatchObject({ tools: 38, status: "connected" });
        const found = await client.callTool({ name: "gateway__search_tools", arguments: { query: "adds numbers" } });
        const hits = (found.structuredContent as { tools: { name: string; inputSchema: object }[] }).tools;
        expect(hits[0]?.name).toMatch(/__add$/);
        expect(hits[0]?.inputSchema).toMatchObject({ type: "object" });
        const called = await client.callTool({ name: "gateway__call_tool", arguments: { name: "fixture__echo", arguments: { message: "via native" } } });
        expect(text(called)).toBe("via native");
      } finally {
        await client.close();
      }
    });

    test("a disabled tool disappears from tools/list and cannot be called; clients hear list_changed", async () => {
      const id = ((await call("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[]).find((c) => c.name === "fixture")!.id;
      let modernHeard = 0;
      let legacyHeard = 0;
      const listening = t.gateway.deps.mcp.held().streams;
      const modern = await connectClient(t.url, key, "2026-07-28", { onToolsChanged: () => modernHeard++ });
      const legacy = await connectClient(t.url, key, "2025-11-25", { onToolsChanged: () => legacyHeard++ });
      try {
        // Both clients hear list_changed on a stream they open after connecting.
        await waitFor(() => t.gateway.deps.mcp.held().streams >= listening + 2, { what: "both clients' notification streams" });
        expect((await call("PATCH", `/api/v1/connections/${id}/tools/add`, { enabled: false })).status).toBe(200);
        await waitFor(() => modernHeard > 0 && legacyHeard > 0, { what: "list_changed on both eras" });
        expect((await modern.listTools()).tools.map((x) => x.name)).not.toContain("fixture__add");
        const refused = await modern.callTool({ name: "fixture__add", arguments: { a: 1, b: 1 } });
        expect(refused.isError).toBe(true);
        expect(text(refused)).toContain("turned off");
        await call("PATCH", `/api/v1/connections/${id}/tools/add`, { enabled: true });
        expect((await legacy.listTools()).tools.map((x) => x.name)).toContain("fixture__add");
      } finally {
        await modern.close();
        await legacy.close();
      }
    });

    test("re-sync reports what was added, removed and changed", async () => {
      const id = ((await call("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[]).find((c) => c.name === "secure")!.id;
      bearer.setTools(["echo", "slow"]);
      const synced = await call("POST", `/api/v1/connections/${id}/sync`);
      expect(synced.status).toBe(200);
      expect(synced.json.report).toMatchObject({ added: ["slow"], removed: ["add"], changed: [] });
      bearer.setTools(["echo", "add"]);
      await call("POST", `/api/v1/connections/${id}/sync`);
    });

    test("every call is in the access log, newest first, filterable", async () => {
      await t.gateway.deps.accessLog.flush();
      const all = await call("GET", "/api/v1/access-log?limit=5");
      const entries = all.json.entries as { tool: string; connectionName: string; outcome: string; latencyMs: number; apiKeyName: string }[];
      expect(entries.length).toBe(5);
      expect(all.json.next).toBeTruthy();
      const failures = await call("GET", "/api/v1/access-log?outcome=tool_error&connection=fixture");
      const rows = failures.json.entries as { tool: string; outcome: string; apiKeyName: string; errorSummary: string }[];
      expect(rows.map((r) => r.tool)).toContain("fail");
      expect(rows.every((r) => r.outcome === "tool_error")).toBe(true);
      expect(rows[0]?.apiKeyName).toBe("test");
      const denied = await call("GET", "/api/v1/access-log?outcome=denied");
      expect((denied.json.entries as { tool: string }[]).map((r) => r.tool)).toContain("add");
      const native = await call("GET", "/api/v1/access-log?connection=gateway");
      expect((native.json.entries as { tool: string }[]).map((r) => r.tool)).toContain("call_tool");
      const bad = await call("GET", "/api/v1/access-log?outcome=nonsense");
      expect(bad.status).toBe(422);
    });

    test("remove deletes the connection, its tools and its stored credential", async () => {
      const id = ((await call("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[]).find((c) => c.name === "keyed")!.id;
      expect((await call("DELETE", `/api/v1/connections/${id}`)).status).toBe(204);
      const { database } = t.gateway.deps;
      expect((await database.db.select().from(database.t.credentials)).map((c) => c.connectionId)).not.toContain(id);
      expect((await database.db.select().from(database.t.tools)).map((c) => c.connectionId)).not.toContain(id);
      expect((await call("GET", `/api/v1/connections/${id}`)).status).toBe(404);
    });
  });
}
