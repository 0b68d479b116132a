import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApiKey } from "../src/accounts/api-keys.ts";
import { createGrant, issueTokens } from "../src/oauth-server/tokens.ts";
import { deleteProfile, getProfile, saveProfile, type ProfileItem } from "../src/profiles/store.ts";
import { setGrantProfile } from "../src/profiles/grants.ts";
import { wrapResourceUri } from "../src/gateway/resource-uris.ts";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { startItemsUpstream, type ItemsUpstream } from "./helpers/items-upstream.ts";
import { api, connectClient, type Era } from "./helpers/client.ts";
import { waitFor } from "./helpers/wait.ts";

// One era of each kind: the 2026 stateless one, and 2025 sessions.
const PROFILE_ERAS: Era[] = ["2026-07-28", "2025-11-25"];

/** Names a limited key may try for a tool outside its profile (or for its one tool, spelled otherwise). */
const HOSTILE_NAMES = [
  "alpha__add",
  "beta__echo",
  "ALPHA__ECHO",
  "Alpha__echo",
  "alpha__Echo",
  "alpha__echo ",
  " alpha__echo",
  "alpha__echo\u200b",
  "\u0430lpha__echo", // Cyrillic a
  "alpha\uff3f\uff3fecho", // full-width low lines
  "alpha_echo",
  "alpha__echo/../add",
  "echo",
  "add",
  "docs__greet",
  "alpha__fail",
  "",
];

const texts = (result: { content?: unknown }): string => ((result.content ?? []) as { type: string; text?: string }[]).map((c) => c.text ?? "").join("\n");

for (const dialect of dialects) {
  describe(`tool profiles on ${dialect}`, () => {
    let t: TestGateway;
    let alpha: Upstream;
    let beta: Upstream;
    let docs: ItemsUpstream;
    let owner: string;
    let workspaceId: string;
    let userId: string;
    let limited: string;
    let searchLimited: string;
    let ids: Record<string, string>;
    let supportId: string;
    let finderId: string;

    async function profile(name: string, mode: string, items: ProfileItem[]): Promise<string> {
      const saved = await saveProfile(t.gateway.deps.database, workspaceId, { name, description: `${name} profile`, mode, items }, null);
      if (!saved.ok) throw new Error(JSON.stringify(saved.errors));
      t.gateway.deps.toolIndex.changed(workspaceId);
      return saved.id;
    }
    async function key(name: string, profileId: string | null): Promise<string> {
      const created = await createApiKey(t.gateway.deps.database, { workspaceId, userId, name, profileId });
      if (!created.ok) throw new Error(JSON.stringify(created.errors));
      return created.key;
    }
    const post = (path: string, token: string, body: object): Promise<Response> =>
      fetch(`${t.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}`, "mcp-protocol-version": "2025-11-25" },
        body: JSON.stringify(body),
      });
    const ping = { jsonrpc: "2.0", id: 1, method: "ping" };

    beforeAll(async () => {
      [t, alpha, beta, docs] = await Promise.all([startTestGateway({ dialect }), startUpstream({ tools: ["echo", "add", "fail"] }), startUpstream({ tools: ["echo", "add"] }), startItemsUpstream({ name: "docs" })]);
      ({ key: owner, workspaceId, userId } = await seedOwner(t));
      const call = api(t.url, owner);
      ids = {};
      for (const [name, url] of [["alpha", alpha.url], ["beta", beta.url], ["docs", docs.url]] as const) {
        const added = await call("POST", "/api/v1/connections", { name, url });
        expect(added.status).toBe(201);
        ids[name] = (added.json.connection as { id: string }).id;
      }
      supportId = await profile("support", "full", [
        { connectionId: ids.alpha!, kind: "tool", name: "echo" },
        { connectionId: ids.docs!, kind: "prompt", name: "greet" },
        { connectionId: ids.docs!, kind: "resource", name: "file:///README.md" },
        { connectionId: ids.docs!, kind: "resource_template", name: "file:///docs/{path}" },
      ]);
      finderId = await profile("finder", "search", [
        { connectionId: ids.alpha!, kind: "tool", name: "echo" },
        { connectionId: ids.beta!, kind: "tool", name: "add" },
      ]);
      limited = await key("support agent", supportId);
      searchLimited = await key("finder agent", finderId);
    }, 30_000);
    afterAll(async () => {
      await Promise.all([t.stop(), alpha.stop(), beta.stop(), docs.stop()]);
    });

    for (const era of PROFILE_ERAS) {
      test(`${era}: a key limited to a profile lists exactly its tools, prompts and resources`, async () => {
        const client = await connectClient(t.url, limited, era);
        try {
          expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(["alpha__echo", "gateway__call_tool", "gateway__list_connections", "gateway__search_tools"]);
          expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(["docs__greet"]);
          expect((await client.listResources()).resources.map((r) => r.uri)).toEqual([wrapResourceUri("docs", "file:///README.md")]);
          expect((await client.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate)).toEqual([wrapResourceUri("docs", "file:///docs/{path}")]);
          // The same key's owner, unlimited, sees everything: the profile is what narrows.
          const full = await connectClient(t.url, owner, era);
          expect((await full.listTools()).tools.map((tool) => tool.name)).toContain("beta__add");
          await full.close();
        } finally {
          await client.close();
        }
      });

      test(`${era}: a limited key calls its profile's tool, and every other name it tries is refused naming the profile`, async () => {
        const client = await connectClient(t.url, limited, era);
        try {
          const ok = await client.callTool({ name: "alpha__echo", arguments: { message: "in profile" } });
          expect(ok.isError).toBeFalsy();
          expect(texts(ok)).toContain("in profile");
          const [alphaBefore, betaBefore] = [alpha.calls, beta.calls];
          for (const name of HOSTILE_NAMES) {
            const direct = await client.callTool({ name, arguments: { message: "x", a: 1, b: 2 } }).then(
              (r) => ({ refused: Boolean(r.isError), text: texts(r) }),
              (e: Error) => ({ refused: true, text: e.message }),
            );
            expect(direct.refused).toBe(true);
            expect(direct.text).toContain('is not in the profile "support"');
            const through = await client.callTool({ name: "gateway__call_tool", arguments: { name, arguments: { message: "x", a: 1, b: 2 } } });
            expect(through.isError).toBe(true);
            if (name !== "") expect(texts(through)).toContain('is not in the profile "support"');
          }
          // Nothing of them reached an upstream.
          expect([alpha.calls, beta.calls]).toEqual([alphaBefore, betaBefore]);
          const viaCall = await client.callTool({ name: "gateway__call_tool", arguments: { name: "alpha__echo", arguments: { message: "via call_tool" } } });
          expect(texts(viaCall)).toContain("via call_tool");
        } finally {
          await client.close();
        }
      });

      test(`${era}: a limited key's search and list_connections show only its profile`, async () => {
        const client = await connectClient(t.url, limited, era);
        try {
          const found = (await client.callTool({ name: "gateway__search_tools", arguments: { query: "echo" } })).structuredContent as { tools: { name: string }[] };
          expect(found.tools.map((tool) => tool.name)).toEqual(["alpha__echo"]);
          const adds = (await client.callTool({ name: "gateway__search_tools", arguments: { query: "add" } })).structuredContent as { tools: { name: string }[] };
          expect(adds.tools).toEqual([]);
          const listed = (await client.callTool({ name: "gateway__list_connections", arguments: {} })).structuredContent as { connections: { name: string; tools: number }[] };
          expect(listed.connections.map((c) => [c.name, c.tools])).toEqual([["alpha", 1], ["docs", 0]]);
        } finally {
          await client.close();
        }
      });

      test(`${era}: prompts and resources outside the profile are refused, inside it they answer`, async () => {
        const client = await connectClient(t.url, limited, era);
        try {
          const greet = await client.getPrompt({ name: "docs__greet", arguments: { who: "Ada" } });
          expect(JSON.stringify(greet.messages)).toContain("Hello Ada");
          await expect(client.getPrompt({ name: "docs__plain" })).rejects.toThrow('is not in the profile "support"');
          await expect(client.getPrompt({ name: "DOCS__GREET", arguments: { who: "x" } })).rejects.toThrow('is not in the profile "support"');
          const readme = await client.readResource({ uri: wrapResourceUri("docs", "file:///README.md") });
          expect(JSON.stringify(readme.contents)).toContain("README of docs");
          const doc = await client.readResource({ uri: wrapResourceUri("docs", "file:///docs/guide") });
          expect(JSON.stringify(doc.contents)).toContain("doc guide of docs");
          for (const uri of [wrapResourceUri("docs", "test://blob"), wrapResourceUri("docs", "test://items/1"), wrapResourceUri("docs", "test://whoami"), wrapResourceUri("alpha", "file:///README.md"), wrapResourceUri("docs", "FILE:///README.md")]) {
            await expect(client.readResource({ uri })).rejects.toThrow('is not in the profile "support"');
          }
        } finally {
          await client.close();
        }
      });

      test(`${era}: completions suggest for the profile's prompt and template only`, async () => {
        const client = await connectClient(t.url, limited, era);
        try {
          const style = await client.complete({ ref: { type: "ref/prompt", name: "docs__greet" }, argument: { name: "style", value: "" } });
          expect(style.completion.values.length).toBeGreaterThan(0);
          const docPath = await client.complete({ ref: { type: "ref/resource", uri: wrapResourceUri("docs", "file:///docs/{path}") }, argument: { name: "path", value: "" } });
          expect(docPath.completion.values.length).toBeGreaterThan(0);
        } finally {
          await client.close();
        }
        // The finder profile has neither: the same references complete to nothing there.
        const other = await connectClient(t.url, searchLimited, era);
        try {
          const style = await other.complete({ ref: { type: "ref/prompt", name: "docs__greet" }, argument: { name: "style", value: "" } }).catch(() => ({ completion: { values: [] } }));
          expect(style.completion.values).toEqual([]);
          const docPath = await other.complete({ ref: { type: "ref/resource", uri: wrapResourceUri("docs", "file:///docs/{path}") }, argument: { name: "path", value: "" } }).catch(() => ({ completion: { values: [] } }));
          expect(docPath.completion.values).toEqual([]);
        } finally {
          await other.close();
        }
      });

      test(`${era}: /api/v1/mcp/p/<profile> serves the profile to an unlimited key, in search mode with two tools`, async () => {
        const client = await connectClient(t.url, owner, era, { path: "/api/v1/mcp/p/finder" });
        try {
          expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(["gateway__call_tool", "gateway__search_tools"]);
          const found = (await client.callTool({ name: "gateway__search_tools", arguments: { query: "add" } })).structuredContent as { tools: { name: string; inputSchema: { properties?: Record<string, unknown> } }[] };
          expect(found.tools.map((tool) => tool.name)).toEqual(["beta__add"]);
          expect(Object.keys(found.tools[0]!.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(["a", "b"]));
          const sum = await client.callTool({ name: "gateway__call_tool", arguments: { name: "beta__add", arguments: { a: 2, b: 3 } } });
          expect(sum.isError).toBeFalsy();
          expect(texts(sum)).toContain("5");
          const outside = await client.callTool({ name: "gateway__call_tool", arguments: { name: "alpha__add", arguments: { a: 2, b: 3 } } });
          expect(outside.isError).toBe(true);
          expect(texts(outside)).toContain('is not in the profile "finder"');
          // Not listed in search mode, so not served either.
          await expect(client.callTool({ name: "gateway__list_connections", arguments: {} })).rejects.toThrow('is not in the profile "finder"');
        } finally {
          await client.close();
        }
      });
    }

    test("a limited key may not use another profile's URL nor a connection's own URL; an unknown profile is 404 with a sentence", async () => {
      const other = await post("/api/v1/mcp/p/finder", limited, ping);
      expect(other.status).toBe(403);
      expect(((await other.json()) as { error: { message: string } }).error.message).toContain('limited to the profile "support"');
      const connection = await post("/api/v1/mcp/alpha", limited, ping);
      expect(connection.status).toBe(403);
      expect(((await connection.json()) as { error: { message: string } }).error.message).toContain("connection's own URL");
      // Probing names tells a limited key nothing: 403, not 404.
      expect((await post("/api/v1/mcp/p/nope", limited, ping)).status).toBe(403);
      expect((await post("/api/v1/mcp/p/support", limited, ping)).status).toBe(200);
      const unknown = await post("/api/v1/mcp/p/nope", owner, ping);
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('no profile named "nope"');
      const odd = await post("/api/v1/mcp/p/%3Cscript%3E", owner, ping);
      expect(odd.status).toBe(404);
      expect(await odd.text()).not.toContain("<script>");
      expect((await post("/api/v1/mcp/p/support", searchLimited, ping)).status).toBe(403);
    });

    test("a limited key's listen stream hears updates of its profile's resources only", async () => {
      const readme = wrapResourceUri("docs", "file:///README.md");
      const blob = wrapResourceUri("docs", "test://blob");
      const full = await connectClient(t.url, owner, "2026-07-28");
      const narrow = await connectClient(t.url, limited, "2026-07-28");
      const heard: string[] = [];
      full.setNotificationHandler("notifications/resources/updated", (n) => void heard.push(`owner ${n.params.uri}`));
      narrow.setNotificationHandler("notifications/resources/updated", (n) => void heard.push(`limited ${n.params.uri}`));
      const streams = [await full.listen({ resourceSubscriptions: [blob] }), await narrow.listen({ resourceSubscriptions: [readme, blob] })];
      try {
        docs.touch("test://blob");
        await waitFor(() => heard.includes(`owner ${blob}`), { what: "the owner hears the blob's update" });
        docs.touch("file:///README.md");
        await waitFor(() => heard.includes(`limited ${readme}`), { what: "the limited key hears its README's update" });
        expect(heard).not.toContain(`limited ${blob}`);
      } finally {
        for (const stream of streams) await stream.close();
        await Promise.all([full.close(), narrow.close()]);
      }
    });

    test("a limited key may not use the HTTP API, so it cannot make itself an unlimited key", async () => {
      const limitedApi = api(t.url, limited);
      const minted = await limitedApi("POST", "/api/v1/keys", { name: "escape" });
      expect(minted.status).toBe(403);
      expect(String(minted.json.message)).toContain("limited to a profile");
      expect((await limitedApi("GET", "/api/v1/connections")).status).toBe(403);
      // The owner's unlimited key still may, and may make a limited one by the profile's name.
      const made = await api(t.url, owner)("POST", "/api/v1/keys", { name: "api-made", profile: "support" });
      expect(made.status).toBe(201);
      const client = await connectClient(t.url, String(made.json.key), "2026-07-28");
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain("alpha__echo");
      expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain("alpha__add");
      await client.close();
      expect((await api(t.url, owner)("POST", "/api/v1/keys", { name: "x", profile: "nope" })).status).toBe(422);
    });

    test("refusals are in the access log as denied", async () => {
      const client = await connectClient(t.url, limited, "2026-07-28");
      await client.callTool({ name: "beta__add", arguments: { a: 1, b: 2 } }).catch(() => undefined);
      await client.close();
      await t.gateway.deps.accessLog.flush();
      const { t: tables } = t.gateway.deps.database;
      const rows = await t.gateway.deps.database.db.select().from(tables.accessLog);
      expect(rows.some((r) => r.tool === "add" && r.connectionName === "beta" && r.outcome === "denied" && r.errorSummary === "not in the profile")).toBe(true);
    });

    test("an OAuth-connected app limited to a profile sees only the profile", async () => {
      const { database } = t.gateway.deps;
      const grantId = await database.transaction((tx) => createGrant(tx, database.t, { workspaceId, userId, clientId: "client-1", clientName: "Test Agent", resource: `${t.config.baseUrl}/api/v1/mcp`, scope: "mcp" }));
      const tokens = await issueTokens(database, { id: grantId, scope: "mcp" });
      const before = await connectClient(t.url, tokens.access_token, "2026-07-28");
      expect((await before.listTools()).tools.map((tool) => tool.name)).toContain("beta__add");
      await before.close();
      expect(await setGrantProfile(database, workspaceId, grantId, finderId)).toEqual({ ok: true });
      const after = await connectClient(t.url, tokens.access_token, "2026-07-28");
      try {
        expect((await after.listTools()).tools.map((tool) => tool.name).sort()).toEqual(["gateway__call_tool", "gateway__search_tools"]);
        expect((await after.callTool({ name: "gateway__call_tool", arguments: { name: "beta__echo", arguments: { message: "x" } } })).isError).toBe(true);
      } finally {
        await after.close();
      }
      const audit = await database.db.select().from(database.t.auditEvents);
      expect(audit.some((e) => e.action === "oauth_grant.profile_set")).toBe(true);
    });

    test("deleting a profile that keys use is refused naming them; deleting a connection takes its items out of profiles", async () => {
      const { database } = t.gateway.deps;
      const refused = await deleteProfile(database, workspaceId, supportId);
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.error).toContain('key "support agent"');
      // The key still works, still limited.
      const client = await connectClient(t.url, limited, "2026-07-28");
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain("alpha__echo");
      await client.close();

      const spare = await profile("spare", "full", [{ connectionId: ids.beta!, kind: "tool", name: "echo" }, { connectionId: ids.alpha!, kind: "tool", name: "add" }]);
      expect(await deleteProfile(database, workspaceId, spare)).toEqual({ ok: true });
      expect(await getProfile(database, workspaceId, spare)).toBeNull();

      const call = api(t.url, owner);
      expect((await call("DELETE", `/api/v1/connections/${ids.beta}`)).status).toBeLessThan(300);
      const finder = await getProfile(database, workspaceId, finderId);
      expect(finder?.items).toEqual([{ connectionId: ids.alpha!, kind: "tool", name: "echo" }]);
      const audit = await database.db.select().from(database.t.auditEvents);
      expect(audit.filter((e) => e.action.startsWith("profile.")).map((e) => e.action)).toEqual(expect.arrayContaining(["profile.created", "profile.deleted"]));
    });

    test("bad profile input gets sentences saying what to fix, and nothing is written", async () => {
      const { database } = t.gateway.deps;
      const bad = await saveProfile(database, workspaceId, { name: "Bad Name!", description: "x".repeat(600), mode: "everything", items: [{ connectionId: "nope", kind: "tool", name: "echo" }] }, null);
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(Object.keys(bad.errors).sort()).toEqual(["description", "items", "mode", "name"]);
      const taken = await saveProfile(database, workspaceId, { name: "support", description: "", mode: "full", items: [] }, null);
      expect(taken.ok).toBe(false);
      const rows = await database.db.select().from(database.t.profiles);
      expect(rows.map((r) => r.name).sort()).toEqual(["finder", "support"]);
    });
  });
}
