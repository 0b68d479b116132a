import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { connectClient } from "./helpers/client.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { startAuthServer, startProtectedUpstream, type AuthServer, type ProtectedUpstream } from "./helpers/oauth-server.ts";
import { authorizeConnection } from "./helpers/oauth-flow.ts";
import { toolKey } from "../src/connections/pages.tsx";
import { connectionIdByName } from "./helpers/members.ts";

type Form = Record<string, string | string[]>;

function formBody(fields: Form): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return params;
}

for (const dialect of dialects) {
  describe(`a new connection exposes only what an admin picked, on ${dialect}`, () => {
    let t: TestGateway;
    let upstream: Upstream;
    let as: AuthServer;
    let protectedUpstream: ProtectedUpstream;
    let key: string;
    let cookie: string;
    let workspaceId: string;
    let dataDir: string;

    /** The tool names the real SDK client sees at the gateway endpoint with the owner's key. */
    async function listed(prefix: string): Promise<string[]> {
      const client = await connectClient(t.url, key);
      try {
        return (await client.listTools()).tools.map((tool) => tool.name).filter((name) => name.startsWith(`${prefix}__`)).sort();
      } finally {
        await client.close();
      }
    }

    /** The JSON API exactly as a client sends it (no test helper filling in fields). */
    async function callApi(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
      const response = await fetch(`${t.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    }

    function postForm(path: string, fields: Form, headers: Record<string, string> = {}): Promise<Response> {
      return fetch(`${t.url}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie, ...headers },
        body: formBody(fields),
      });
    }


    beforeAll(async () => {
      upstream = await startUpstream({ tools: ["echo", "add", "fail"] });
      as = await startAuthServer();
      protectedUpstream = await startProtectedUpstream(as, { tools: ["echo", "add"] });
      dataDir = mkdtempSync(join(tmpdir(), "mgw-expose-"));
      writeFileSync(
        join(dataDir, "catalog.json"),
        JSON.stringify({
          entries: [{ id: "local", name: "Local fixture", description: "The test upstream.", url: upstream.url, docs: "https://example.com/docs", signIn: [{ kind: "none" }] }],
        }),
      );
      t = await startTestGateway({ dialect, env: { DATA_DIR: dataDir } });
      const seeded = await seedOwner(t);
      key = seeded.key;
      workspaceId = seeded.workspaceId;
      cookie = await signIn(t);
    });
    afterAll(async () => {
      await Promise.all([t.stop(), upstream.stop(), protectedUpstream.stop(), as.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    });

    test("right after Add server, the endpoint lists none of its tools; saving the pick exposes exactly the picked ones", async () => {
      const added = await postForm("/connections", { name: "picked", url: upstream.url, auth: "none" });
      expect(added.status).toBe(303);
      const id = await connectionIdByName(t, workspaceId, "picked");
      expect(added.headers.get("location")).toBe(`/connections/${id}/expose`);
      // The pick page is open: nothing of this server is live yet.
      expect(await listed("picked")).toEqual([]);

      const saved = await postForm(`/connections/${id}/expose`, { tool: [toolKey("echo"), toolKey("fail")] });
      expect(saved.status).toBe(303);
      expect(await listed("picked")).toEqual(["picked__echo", "picked__fail"]);
    });

    test("with htmx, Add server answers with the picker and still exposes nothing until it is saved", async () => {
      const response = await postForm("/connections", { name: "htmxadd", url: upstream.url, auth: "none" }, { "hx-request": "true" });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("3 tools found");
      expect(await listed("htmxadd")).toEqual([]);
    });

    test('ticking "expose every tool" on the Add form exposes them all at once', async () => {
      const added = await postForm("/connections", { name: "allnow", url: upstream.url, auth: "none", expose: "all" });
      expect(added.status).toBe(303);
      expect(await listed("allnow")).toEqual(["allnow__add", "allnow__echo", "allnow__fail"]);
    });

    test('the API exposes nothing unless asked: no "expose" (or "none") lists nothing, "all" lists every tool', async () => {
      const quiet = await callApi("POST", "/api/v1/connections", { name: "apiquiet", url: upstream.url });
      expect(quiet.status).toBe(201);
      expect(quiet.json.tools).toEqual(["echo", "add", "fail"]);
      expect(quiet.json.connection).toMatchObject({ tools: 3, enabledTools: 0 });
      expect(await listed("apiquiet")).toEqual([]);

      const none = await callApi("POST", "/api/v1/connections", { name: "apinone", url: upstream.url, expose: "none" });
      expect(none.status).toBe(201);
      expect(await listed("apinone")).toEqual([]);

      const all = await callApi("POST", "/api/v1/connections", { name: "apiall", url: upstream.url, expose: "all" });
      expect(all.status).toBe(201);
      expect(all.json.connection).toMatchObject({ tools: 3, enabledTools: 3 });
      expect(await listed("apiall")).toEqual(["apiall__add", "apiall__echo", "apiall__fail"]);

      const bad = await callApi("POST", "/api/v1/connections", { name: "apibad", url: upstream.url, expose: "some" });
      expect(bad.status).toBe(422);
      expect((bad.json.fields as Record<string, string>).expose).toContain('"all" or "none"');
    });

    test("the API's pick exposes exactly the named tools", async () => {
      const id = (await callApi("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[];
      const quiet = id.find((c) => c.name === "apiquiet")!;
      const picked = await callApi("PUT", `/api/v1/connections/${quiet.id}/tools`, { enabled: ["add"] });
      expect(picked.status).toBe(200);
      expect(await listed("apiquiet")).toEqual(["apiquiet__add"]);
      const unknown = await callApi("PUT", `/api/v1/connections/${quiet.id}/tools`, { enabled: ["nope"] });
      expect(unknown.status).toBe(422);
    });

    test("a catalog add exposes nothing until the pick is saved", async () => {
      const added = await postForm("/catalog/local", { name: "fromcatalog", signIn: "0" });
      expect(added.status).toBe(303);
      const id = await connectionIdByName(t, workspaceId, "fromcatalog");
      expect(added.headers.get("location")).toBe(`/connections/${id}/expose`);
      expect(await listed("fromcatalog")).toEqual([]);
      await postForm(`/connections/${id}/expose`, { tool: [toolKey("echo")] });
      expect(await listed("fromcatalog")).toEqual(["fromcatalog__echo"]);
    });

    test("an OAuth connection lands on the pick step after its callback, and exposes nothing before the pick is saved", async () => {
      const added = await postForm("/connections", { name: "oauthed", url: protectedUpstream.url, auth: "oauth" });
      expect(added.status).toBe(303);
      const id = await connectionIdByName(t, workspaceId, "oauthed");
      const { callback } = await authorizeConnection(t.url, key, cookie, id);
      expect(callback.status).toBe(303);
      expect(callback.headers.get("location")).toBe(`/connections/${id}/expose`);
      expect(await listed("oauthed")).toEqual([]);
      // The connection's page says its tools wait for a pick.
      const page = await (await fetch(`${t.url}/connections/${id}`, { headers: { cookie } })).text();
      expect(page).toContain(`href="/connections/${id}/expose"`);

      const pick = await (await fetch(`${t.url}/connections/${id}/expose`, { headers: { cookie } })).text();
      expect(pick).toContain("2 tools found");
      await postForm(`/connections/${id}/expose`, { tool: [toolKey("add")] });
      expect(await listed("oauthed")).toEqual(["oauthed__add"]);
    });

    test("a pick saved while the server listed no tools does not expose the tools that come later", async () => {
      const empty = await startUpstream({ tools: [] });
      try {
        const added = await postForm("/connections", { name: "latecomer", url: empty.url, auth: "none" });
        expect(added.status).toBe(303);
        const id = await connectionIdByName(t, workspaceId, "latecomer");
        await postForm(`/connections/${id}/expose`, {});
        empty.setTools(["echo"]);
        const synced = await callApi("POST", `/api/v1/connections/${id}/sync`);
        expect(synced.status).toBe(200);
        expect(await listed("latecomer")).toEqual([]);
      } finally {
        await empty.stop();
      }
    });
  });
}
