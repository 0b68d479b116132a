import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, desc, eq } from "drizzle-orm";
import type { Client } from "@modelcontextprotocol/client";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api, connectClient, type Era } from "./helpers/client.ts";
import { connectionIdByName, insertMember } from "./helpers/members.ts";
import { waitFor } from "./helpers/wait.ts";

// Issue 17 item 4, last sentence: per-workspace aliases and description overrides for a tool, set by
// an admin in the dashboard, applied everywhere the tool is listed or called.
const ERAS_TESTED: Era[] = ["2026-07-28", "2025-11-25"];
const OWN_DESCRIPTION = "Repeats what you say, word for word.";
const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)> & "quoted"`;

type ToolSeen = { name: string; description?: string };

for (const dialect of dialects) {
  describe(`tool aliases and description overrides on ${dialect}`, () => {
    let t: TestGateway;
    let alpha: Upstream;
    let beta: Upstream;
    let key: string;
    let workspaceId: string;
    let cookie: string;
    let memberCookie: string;
    let alphaId: string;
    let betaId: string;

    function post(path: string, fields: Record<string, string>, options: { htmx?: boolean; as?: string } = {}): Promise<Response> {
      return fetch(`${t.url}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie: options.as ?? cookie, ...(options.htmx ? { "hx-request": "true" } : {}) },
        body: new URLSearchParams(fields),
      });
    }

    function setOverride(connectionId: string, tool: string, fields: Record<string, string>, options: { htmx?: boolean; as?: string } = {}): Promise<Response> {
      return post(`/connections/${connectionId}/tools/override?tool=${encodeURIComponent(tool)}`, fields, { htmx: true, ...options });
    }

    async function withClient<T>(era: Era, run: (client: Client) => Promise<T>, path?: string): Promise<T> {
      const client = await connectClient(t.url, key, era, path ? { path } : {});
      try {
        return await run(client);
      } finally {
        await client.close();
      }
    }

    async function listed(era: Era = "2026-07-28", path?: string): Promise<ToolSeen[]> {
      return withClient(era, async (client) => (await client.listTools()).tools.map((tool) => ({ name: tool.name, ...(tool.description ? { description: tool.description } : {}) })), path);
    }

    function text(result: { content?: unknown }): string {
      return ((result.content as { type: string; text: string }[])[0]?.text ?? "").toString();
    }

    /** What a client hears for a call: the result's text, or the JSON-RPC error's message. */
    async function callSaying(era: Era, name: string, args: Record<string, unknown>, path?: string): Promise<string> {
      return withClient(era, async (client) => {
        try {
          return text(await client.callTool({ name, arguments: args }));
        } catch (error) {
          return `error: ${(error as Error).message}`;
        }
      }, path);
    }

    async function overrideRows(connectionId: string): Promise<{ toolName: string; alias: string | null }[]> {
      const { database } = t.gateway.deps;
      return database.db.select({ toolName: database.t.toolOverrides.toolName, alias: database.t.toolOverrides.alias }).from(database.t.toolOverrides).where(eq(database.t.toolOverrides.connectionId, connectionId));
    }

    async function sync(connectionId: string): Promise<void> {
      expect((await api(t.url, key)("POST", `/api/v1/connections/${connectionId}/sync`)).status).toBe(200);
    }

    beforeAll(async () => {
      [t, alpha, beta] = await Promise.all([startTestGateway({ dialect }), startUpstream({ tools: ["echo", "add", "fail"] }), startUpstream({ tools: ["echo"] })]);
      const seeded = await seedOwner(t);
      key = seeded.key;
      workspaceId = seeded.workspaceId;
      cookie = await signIn(t);
      await insertMember(t, workspaceId, "member@example.com", { password: "member password 1" });
      memberCookie = await signIn(t, "member@example.com", "member password 1");
      const call = api(t.url, key);
      expect((await call("POST", "/api/v1/connections", { name: "alpha", url: alpha.url, auth: { kind: "none" } })).status).toBe(201);
      expect((await call("POST", "/api/v1/connections", { name: "beta", url: beta.url, auth: { kind: "none" } })).status).toBe(201);
      [alphaId, betaId] = await Promise.all([connectionIdByName(t, workspaceId, "alpha"), connectionIdByName(t, workspaceId, "beta")]);
      // Two password hashes and sign-ins: more than bun's 5 s on a busy machine.
    }, 30_000);
    afterAll(async () => {
      await Promise.all([t.stop(), alpha.stop(), beta.stop()]);
    });

    test("an admin's alias and description are what agents list, search and call, and the upstream still gets its own name and arguments", async () => {
      const saved = await setOverride(alphaId, "echo", { alias: "say", description: OWN_DESCRIPTION });
      expect(saved.status).toBe(200);
      expect(await saved.text()).toContain("Saved: agents now see echo as say");

      for (const era of ERAS_TESTED) {
        const tools = await listed(era);
        expect(tools.find((tool) => tool.name === "say")).toEqual({ name: "say", description: OWN_DESCRIPTION });
        expect(tools.map((tool) => tool.name)).not.toContain("alpha__echo");
        // The other connection's echo is untouched.
        expect(tools.find((tool) => tool.name === "beta__echo")?.description).toBe("Echoes the message back as text and as structured content.");

        const before = alpha.calls;
        expect(await callSaying(era, "say", { message: `hello ${era}` })).toBe(`hello ${era}`);
        // The fixture runs only tools it lists by their own name: it ran echo, with these arguments.
        expect(alpha.calls).toBe(before + 1);
        expect(await callSaying(era, "gateway__call_tool", { name: "say", arguments: { message: "through call_tool" } })).toBe("through call_tool");

        const old = await callSaying(era, "alpha__echo", { message: "x" });
        expect(old).toContain("Unknown tool: alpha__echo. A workspace admin renamed this tool to say: call it by that name.");
        const oldThroughCallTool = await callSaying(era, "gateway__call_tool", { name: "alpha__echo", arguments: { message: "x" } });
        expect(oldThroughCallTool).toContain("renamed this tool to say");
        expect(alpha.calls).toBe(before + 2);
      }

      // Search finds it by the admin's words and by the alias, and shows what agents see.
      for (const query of ["word for word", "say"]) {
        const found = await withClient("2026-07-28", (client) => client.callTool({ name: "gateway__search_tools", arguments: { query } }));
        const results = (found.structuredContent as { tools: ToolSeen[] }).tools;
        expect(results.find((tool) => tool.name === "say")?.description).toBe(OWN_DESCRIPTION);
        expect(results.map((tool) => tool.name)).not.toContain("alpha__echo");
      }

      // The connection page's search finds the tool by the admin's words too.
      const found = await (await fetch(`${t.url}/connections/${alphaId}?q=${encodeURIComponent("word for word")}`, { headers: { cookie } })).text();
      expect([...found.matchAll(/<code class="tool-name"[^>]*>([^<]+)<\/code>/g)].map((m) => m[1])).toEqual(["say"]);

      // The access log names the connection and the upstream's own tool name.
      await t.gateway.deps.accessLog.flush();
      const logged = await api(t.url, key)("GET", "/api/v1/access-log?tool=echo&limit=50");
      const entries = (logged.json.entries as { connectionName: string | null; tool: string; outcome: string; errorSummary: string | null }[]).filter((entry) => entry.connectionName === "alpha");
      expect(entries.filter((entry) => entry.outcome === "ok").length).toBe(4);
      // A call by the replaced name is refused, and logged against the tool it meant.
      expect(entries.filter((entry) => entry.outcome === "denied")).toEqual(Array(4).fill(expect.objectContaining({ tool: "echo", errorSummary: "called by the name its alias replaced" })));

      // Audited, with the alias and without the description's text.
      const { database } = t.gateway.deps;
      const audit = await database.db.select().from(database.t.auditEvents).where(eq(database.t.auditEvents.action, "tool.override_set"));
      expect(audit.length).toBe(1);
      expect(audit[0]!.details).toContain('"alias":"say"');
      expect(audit[0]!.details).not.toContain("word for word");
    });

    test("the connection's own endpoint keeps the upstream's names but shows the admin's description", async () => {
      for (const era of ERAS_TESTED) {
        const tools = await listed(era, "/api/v1/mcp/alpha");
        expect(tools.find((tool) => tool.name === "echo")).toEqual({ name: "echo", description: OWN_DESCRIPTION });
        expect(tools.map((tool) => tool.name)).not.toContain("say");
        expect(await callSaying(era, "echo", { message: "mirrored" }, "/api/v1/mcp/alpha")).toBe("mirrored");
        expect(await callSaying(era, "say", { message: "x" }, "/api/v1/mcp/alpha")).toContain("Unknown tool: say");
      }
    });

    test("each refused alias or description says what to fix, and nothing is written", async () => {
      const refusals: [Record<string, string>, string][] = [
        [{ alias: "say" }, `"say" is already the alias of alpha's tool echo. Choose another name, or clear that alias first.`],
        [{ alias: "SAY" }, `"SAY" is already the alias of alpha's tool echo (as "say": aliases are compared without regard to case).`],
        [{ alias: "alpha__add" }, `An alias cannot contain "__"`],
        [{ alias: "gateway__call_tool" }, `An alias cannot contain "__"`],
        [{ alias: "say hello" }, "An alias may use only letters, digits, _ (underscore), - (dash) and . (dot)"],
        [{ alias: "é" }, "An alias may use only letters, digits"],
        [{ alias: "a".repeat(65) }, "An alias is at most 64 characters, the longest tool name MCP clients accept; this one has 65."],
        [{ alias: "", description: "é".repeat(8 * 1024 + 1) }, "A description is at most 16 KiB (16384 bytes of UTF-8); this one has 16386. Shorten it."],
        [{ alias: "", description: "nul \u0000 inside" }, "A description cannot contain control characters other than line breaks and tabs."],
      ];
      const listBefore = await listed();
      for (const [fields, sentence] of refusals) {
        const response = await setOverride(betaId, "echo", { alias: "", description: "", ...fields });
        expect(response.status).toBe(422);
        const html = await response.text();
        expect(html).toContain(Bun.escapeHTML(sentence));
        // The form comes back open, with what was typed.
        expect(html).toMatch(/<details class="tool-override" open/);
      }
      expect(await overrideRows(betaId)).toEqual([]);
      expect(await listed()).toEqual(listBefore);

      // Without htmx, a refusal is the form's own page, escaped.
      const plain = await setOverride(betaId, "echo", { alias: `x" autofocus onfocus="alert(1)`, description: "</textarea><script>alert(2)</script>" }, { htmx: false });
      expect(plain.status).toBe(422);
      const page = await plain.text();
      expect(page).toContain("An alias may use only letters");
      // The typed alias stays inside its attribute, the description inside its textarea.
      expect(page).not.toContain(`" autofocus onfocus="`);
      expect(page).toContain("&#34; autofocus onfocus=&#34;alert(1)");
      expect(page).not.toContain("<script>alert(2)");
      expect(page).toContain("&lt;/textarea&gt;&lt;script&gt;alert(2)");
    });

    test("the alias survives re-syncs and the tool leaving and coming back upstream", async () => {
      await sync(alphaId);
      expect((await listed()).map((tool) => tool.name)).toContain("say");

      alpha.setTools(["add", "fail"]);
      await sync(alphaId);
      const gone = (await listed()).map((tool) => tool.name);
      expect(gone).not.toContain("say");
      expect(gone).not.toContain("alpha__echo");
      expect(await callSaying("2026-07-28", "say", { message: "x" })).toContain("Unknown tool: say");
      // Kept while the tool is away.
      expect(await overrideRows(alphaId)).toEqual([{ toolName: "echo", alias: "say" }]);

      alpha.setTools(["echo", "add", "fail"]);
      await sync(alphaId);
      for (const era of ERAS_TESTED) {
        expect((await listed(era)).find((tool) => tool.name === "say")).toEqual({ name: "say", description: OWN_DESCRIPTION });
        expect(await callSaying(era, "say", { message: `back ${era}` })).toBe(`back ${era}`);
      }
    });

    test("an admin can give another tool the alias kept for a tool its upstream no longer lists; that tool comes back under its usual name", async () => {
      expect((await setOverride(alphaId, "fail", { alias: "oops", description: "Always fails, on purpose." })).status).toBe(200);
      // While fail is listed, its alias is refused to others; once it is gone, it can be taken.
      expect((await setOverride(alphaId, "add", { alias: "OOPS", description: "" })).status).toBe(422);
      alpha.setTools(["echo", "add"]);
      await sync(alphaId);
      const taken = await setOverride(alphaId, "add", { alias: "OOPS", description: "" });
      expect(taken.status).toBe(200);
      expect(await taken.text()).toContain(Bun.escapeHTML("OOPS was kept for alpha's tool fail, which its upstream no longer lists; if it comes back, it has its usual name."));
      const { database } = t.gateway.deps;
      const [entry] = await database.db.select().from(database.t.auditEvents).where(eq(database.t.auditEvents.action, "tool.override_set")).orderBy(desc(database.t.auditEvents.seq)).limit(1);
      expect(entry!.details).toContain('"aliasTakenFrom":{"connection":"alpha","tool":"fail"}');

      alpha.setTools(["echo", "add", "fail"]);
      await sync(alphaId);
      const tools = await listed();
      // fail keeps the description an admin wrote, under its usual name; add is OOPS.
      expect(tools.find((tool) => tool.name === "alpha__fail")?.description).toBe("Always fails, on purpose.");
      expect(tools.map((tool) => tool.name)).toContain("OOPS");
      expect(await callSaying("2026-07-28", "OOPS", { a: 1, b: 1 })).toBe("2");
      // And back to how the other tests expect alpha: its add and fail without overrides.
      expect((await setOverride(alphaId, "add", { action: "clear" })).status).toBe(200);
      expect((await setOverride(alphaId, "fail", { action: "clear" })).status).toBe(200);
      expect(await overrideRows(alphaId)).toEqual([{ toolName: "echo", alias: "say" }]);
    });

    test("a description keeps its line breaks as \\n, one of only spaces clears it, and the JSON API shows each tool's override", async () => {
      expect((await setOverride(alphaId, "fail", { alias: "", description: "line one\r\nline two\ttabbed" })).status).toBe(200);
      expect((await listed()).find((tool) => tool.name === "alpha__fail")?.description).toBe("line one\nline two\ttabbed");
      const shown = await api(t.url, key)("GET", `/api/v1/connections/${alphaId}`);
      const tools = shown.json.tools as { name: string; exposedName: string; override: { alias: string | null; description: string | null } | null }[];
      expect(tools.find((tool) => tool.name === "fail")?.override).toEqual({ alias: null, description: "line one\nline two\ttabbed" });
      expect(tools.find((tool) => tool.name === "echo")).toMatchObject({ exposedName: "say", override: { alias: "say", description: OWN_DESCRIPTION } });
      expect((await setOverride(alphaId, "fail", { alias: "  ", description: "   \r\n  " })).status).toBe(200);
      expect(await overrideRows(alphaId)).toEqual([{ toolName: "echo", alias: "say" }]);
      expect((await listed()).find((tool) => tool.name === "alpha__fail")?.description).toBe("Returns a tool error result.");
    });

    test("hostile description text is escaped on the connection page, and reaches agents as the admin wrote it", async () => {
      expect((await setOverride(betaId, "echo", { alias: "", description: HOSTILE })).status).toBe(200);
      const page = await (await fetch(`${t.url}/connections/${betaId}`, { headers: { cookie } })).text();
      expect(page).not.toContain("<script>alert");
      expect(page).not.toContain("<img src=x");
      expect(page).toContain("&lt;script&gt;alert(");
      expect(page).toContain("description set by an admin");
      expect((await listed()).find((tool) => tool.name === "beta__echo")?.description).toBe(HOSTILE);
      // The upstream's name stays: no alias was given.
      expect(await callSaying("2026-07-28", "beta__echo", { message: "still here" })).toBe("still here");
    });

    test("a member sees aliases but cannot set or clear them", async () => {
      const refused = await setOverride(alphaId, "echo", { action: "clear" }, { as: memberCookie });
      expect(refused.status).toBe(403);
      expect((await fetch(`${t.url}/connections/${alphaId}/tools/override?tool=echo`, { headers: { cookie: memberCookie } })).status).toBe(403);
      // Nor can a page of another site post the form with an admin's cookie.
      const forged = await fetch(`${t.url}/connections/${alphaId}/tools/override?tool=echo`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example", cookie },
        body: new URLSearchParams({ action: "clear" }),
      });
      expect(forged.status).toBe(403);
      expect(await overrideRows(alphaId)).toEqual([{ toolName: "echo", alias: "say" }]);
      const page = await (await fetch(`${t.url}/connections/${alphaId}`, { headers: { cookie: memberCookie } })).text();
      expect(page).toContain(">say</code>");
      expect(page).not.toContain("Rename or describe");
    });

    test("clearing gives the tool back its connection__tool name and the upstream's description, audited", async () => {
      const cleared = await setOverride(alphaId, "echo", { alias: "say", description: OWN_DESCRIPTION, action: "clear" }, { htmx: false });
      expect(cleared.status).toBe(303);
      expect(await overrideRows(alphaId)).toEqual([]);
      const tools = await listed();
      expect(tools.find((tool) => tool.name === "alpha__echo")?.description).toBe("Echoes the message back as text and as structured content.");
      expect(tools.map((tool) => tool.name)).not.toContain("say");
      expect(await callSaying("2026-07-28", "say", { message: "x" })).toContain("Unknown tool: say. Call gateway__search_tools");
      const { database } = t.gateway.deps;
      const audit = await database.db.select().from(database.t.auditEvents).where(eq(database.t.auditEvents.action, "tool.override_cleared")).orderBy(desc(database.t.auditEvents.seq)).limit(1);
      expect(audit[0]!.details).toContain('"tool":"echo"');
      expect(audit[0]!.details).toContain('"previousAlias":"say"');
      // The alias is free again, for another tool.
      expect((await setOverride(betaId, "echo", { alias: "say", description: "" })).status).toBe(200);
      expect(await callSaying("2026-07-28", "say", { message: "beta now" })).toBe("beta now");
    });

    test("removing a connection removes its aliases and descriptions, and frees its aliases", async () => {
      const gamma = await startUpstream({ tools: ["add"] });
      try {
        expect((await api(t.url, key)("POST", "/api/v1/connections", { name: "gamma", url: gamma.url, auth: { kind: "none" } })).status).toBe(201);
        const gammaId = await connectionIdByName(t, workspaceId, "gamma");
        expect((await setOverride(gammaId, "add", { alias: "plus", description: "Adds." })).status).toBe(200);
        expect((await listed()).map((tool) => tool.name)).toContain("plus");
        expect((await post(`/connections/${gammaId}/remove`, {})).status).toBe(303);
        expect(await overrideRows(gammaId)).toEqual([]);
        expect((await listed()).map((tool) => tool.name)).not.toContain("plus");
        expect((await setOverride(alphaId, "add", { alias: "plus", description: "" })).status).toBe(200);
        expect(await callSaying("2026-07-28", "plus", { a: 2, b: 3 })).toBe("5");
      } finally {
        await gamma.stop();
      }
    });

    test("two admins giving one alias to two tools at once: one wins, the other hears who has it", async () => {
      const [first, second] = await Promise.all([setOverride(alphaId, "fail", { alias: "racer", description: "" }), setOverride(betaId, "echo", { alias: "Racer", description: "" })]);
      const statuses = [first.status, second.status].sort();
      expect(statuses).toEqual([200, 422]);
      const loser = first.status === 422 ? await first.text() : await second.text();
      expect(loser).toMatch(/is already the alias of (alpha&#x27;s tool fail|beta&#x27;s tool echo)/);
      const { database } = t.gateway.deps;
      const holders = await database.db.select().from(database.t.toolOverrides).where(and(eq(database.t.toolOverrides.workspaceId, workspaceId), eq(database.t.toolOverrides.aliasKey, "racer")));
      expect(holders.length).toBe(1);
    });

    test("a tool the connection does not list cannot be given an alias", async () => {
      expect((await setOverride(alphaId, "nope", { alias: "nope-alias" })).status).toBe(404);
      const { database } = t.gateway.deps;
      const rows = await database.db.select().from(database.t.toolOverrides).where(and(eq(database.t.toolOverrides.workspaceId, workspaceId), eq(database.t.toolOverrides.toolName, "nope")));
      expect(rows).toEqual([]);
    });

    test("connected clients of both eras hear list_changed when an admin renames a tool, and list the new name", async () => {
      let modernHeard = 0;
      let legacyHeard = 0;
      const listening = t.gateway.deps.mcp.held().streams;
      const modern = await connectClient(t.url, key, "2026-07-28", { onToolsChanged: () => modernHeard++ });
      const legacy = await connectClient(t.url, key, "2025-11-25", { onToolsChanged: () => legacyHeard++ });
      try {
        await waitFor(() => t.gateway.deps.mcp.held().streams >= listening + 2, { what: "both clients' notification streams" });
        expect((await setOverride(alphaId, "add", { alias: "sum", description: "Adds two numbers, carefully." })).status).toBe(200);
        await waitFor(() => modernHeard > 0 && legacyHeard > 0, { what: "list_changed on both eras" });
        for (const client of [modern, legacy]) {
          const tools = (await client.listTools()).tools;
          expect(tools.find((tool) => tool.name === "sum")?.description).toBe("Adds two numbers, carefully.");
          expect(tools.map((tool) => tool.name)).not.toContain("plus");
          expect(text(await client.callTool({ name: "sum", arguments: { a: 20, b: 22 } }))).toBe("42");
        }
      } finally {
        await Promise.all([modern.close(), legacy.close()]);
      }
    });
  });
}
