import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { startKeyInPathUpstream } from "./helpers/keyed-upstream.ts";
import { createSession } from "../src/accounts/sessions.ts";
import { newId } from "../src/crypto/tokens.ts";
import { toolKey } from "../src/connections/pages.tsx";
import type { Role } from "../src/accounts/principal.ts";
import { setConnectionStatus } from "../src/connections/status.ts";
import { connectionIdByName } from "./helpers/members.ts";

type Form = Record<string, string | string[]>;

const URL_KEY = "url-key-canary-93ab27";

function body(fields: Form): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return params;
}

for (const dialect of dialects) {
  describe(`the dashboard on ${dialect}`, () => {
    let t: TestGateway;
    let upstream: Upstream;
    let secured: Upstream;
    let owner: string;
    let member: string;
    let stranger: string;
    let workspaceId: string;

    /** A user with a role in a workspace (a new one unless given), signed in: returns the Cookie header. */
    async function makeUser(email: string, role: Role, inWorkspace?: string): Promise<string> {
      const { database } = t.gateway.deps;
      const now = Date.now();
      const userId = newId();
      const ws = inWorkspace ?? newId();
      if (!inWorkspace) await database.db.insert(database.t.workspaces).values({ id: ws, name: `ws of ${email}`, createdAt: now });
      await database.db.insert(database.t.users).values({ id: userId, email, name: email, passwordHash: null, createdAt: now });
      await database.db.insert(database.t.memberships).values({ workspaceId: ws, userId, role, createdAt: now });
      const session = await createSession(database, userId, ws);
      return `mgw_session=${session.token}`;
    }

    function get(path: string, cookie: string, headers: Record<string, string> = {}): Promise<Response> {
      return fetch(`${t.url}${path}`, { redirect: "manual", headers: { cookie, ...headers } });
    }

    function post(path: string, cookie: string, fields: Form = {}, headers: Record<string, string> = {}): Promise<Response> {
      return fetch(`${t.url}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie, ...headers },
        body: body(fields),
      });
    }

    const htmx = { "hx-request": "true" };


    async function enabledTools(id: string): Promise<string[]> {
      const { database } = t.gateway.deps;
      const rows = await database.db.select().from(database.t.tools).where(eq(database.t.tools.connectionId, id)).orderBy(database.t.tools.name);
      return rows.filter((r) => r.enabled).map((r) => r.name);
    }

    beforeAll(async () => {
      [t, upstream, secured] = await Promise.all([
        startTestGateway({ dialect }),
        startUpstream({ tools: ["echo", "add", "fail"] }),
        startUpstream({ auth: { kind: "bearer", token: "right-token-5d1c" }, tools: ["echo"] }),
      ]);
      workspaceId = (await seedOwner(t)).workspaceId;
      owner = await signIn(t);
      member = await makeUser("member@example.com", "member", workspaceId);
      stranger = await makeUser("stranger@example.com", "owner");
    });
    afterAll(async () => {
      await Promise.all([t.stop(), upstream.stop(), secured.stop()]);
    });

    test("the connections page shows the endpoint, a ready claude line, and an empty state that leads to Add server", async () => {
      const response = await get("/", owner);
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toContain(`claude mcp add --transport http gateway ${t.url}/api/v1/mcp --header &quot;Authorization: Bearer &lt;your key&gt;&quot;`);
      expect(html).toContain('data-copy="endpoint-claude-code-key"');
      expect(html).toContain("No servers yet");
      expect(html).toContain('href="/connections/new"');
      expect(response.headers.get("vary")).toContain("HX-Request");
    });

    test("a bad Add server form comes back 422 with a message beside each field, and never with the typed secret", async () => {
      const bad = await post("/connections", owner, { name: "Bad Name", url: "not a url", auth: "bearer", token: "typed-secret-8841" });
      expect(bad.status).toBe(422);
      const page = await bad.text();
      expect(page).toStartWith("<!doctype html>");
      expect(page).toContain('id="name-error"');
      expect(page).not.toContain("typed-secret-8841");

      const wrong = await post("/connections", owner, { name: "secured", url: secured.url, auth: "bearer", token: "wrong-token-3f9a" }, htmx);
      expect(wrong.status).toBe(422);
      const fragment = await wrong.text();
      expect(fragment).toStartWith('<form id="add-server"');
      expect(fragment).toContain('id="auth-error"');
      expect(fragment).toContain("401");
      expect(fragment).not.toContain("wrong-token-3f9a");
      expect(fragment).toContain('value="secured"');
      expect(fragment).toMatch(/<input id="auth-token" name="token" type="password"[^>]* value=""/);

      const header = await post("/connections", owner, { name: "h", url: upstream.url, auth: "header", header: "Content-Type", value: "header-secret-77" }, htmx);
      expect(header.status).toBe(422);
      const headerFragment = await header.text();
      expect(headerFragment).toContain('id="header-error"');
      expect(headerFragment).toContain('value="Content-Type"');
      expect(headerFragment).not.toContain("header-secret-77");
    });

    test("the Add server form offers every authentication the API takes, key in the URL among them; the key is sealed and never shown", async () => {
      const form = await (await get("/connections/new", owner)).text();
      for (const kind of ["none", "bearer", "header", "url", "oauth", "id-jag"]) expect(form).toContain(`name="auth" value="${kind}"`);
      expect(form).toContain('name="key"');

      const keyed = startKeyInPathUpstream(URL_KEY);
      try {
        // A wrong key: 422 with the message beside the field, the typed key not sent back.
        const wrong = await post("/connections", owner, { name: "keyed", url: keyed.template, auth: "url", key: "wrong-url-key-61f0" }, htmx);
        expect(wrong.status).toBe(422);
        const fragment = await wrong.text();
        expect(fragment).toContain('value="url" checked');
        expect(fragment).not.toContain("wrong-url-key-61f0");
        expect(fragment).toMatch(/<input id="auth-key" name="key" type="password"[^>]* value=""/);
        // A URL without {key}: the message points at the URL, and the key is not echoed either.
        const noPlaceholder = await post("/connections", owner, { name: "keyed", url: keyed.url.replace(URL_KEY, "x"), auth: "url", key: URL_KEY });
        expect(noPlaceholder.status).toBe(422);
        const page = await noPlaceholder.text();
        expect(page).toContain("Put {key} in the URL");
        expect(page).not.toContain(URL_KEY);

        const added = await post("/connections", owner, { name: "keyed", url: keyed.template, auth: "url", key: URL_KEY });
        expect(added.status).toBe(303);
        expect(keyed.seen).toContain(`/${URL_KEY}/v2/mcp`);
        const id = await connectionIdByName(t, workspaceId, "keyed");
        const { database } = t.gateway.deps;
        const [row] = await database.db.select().from(database.t.credentials).where(eq(database.t.credentials.connectionId, id));
        expect(row?.kind).toBe("url");
        expect(row?.ciphertext).not.toContain(URL_KEY);
        for (const path of [`/connections/${id}`, `/connections/${id}/expose`, "/"]) {
          const html = await (await get(path, owner)).text();
          expect(html).toContain("keyed");
          expect(html).not.toContain(URL_KEY);
        }
        expect(t.logs.join("\n")).not.toContain(URL_KEY);
      } finally {
        await keyed.stop();
      }
    });

    test("without JavaScript, adding a server redirects to choosing its tools, and the choice is saved", async () => {
      const added = await post("/connections", owner, { name: "fixture", url: upstream.url, auth: "none", callTimeoutMs: "" });
      expect(added.status).toBe(303);
      const id = await connectionIdByName(t, workspaceId, "fixture");
      expect(added.headers.get("location")).toBe(`/connections/${id}/expose`);
      const pick = await (await get(`/connections/${id}/expose`, owner)).text();
      for (const name of ["echo", "add", "fail"]) expect(pick).toContain(`value="${toolKey(name)}" checked`);

      const saved = await post(`/connections/${id}/expose`, owner, { tool: [toolKey("echo"), toolKey("add")] });
      expect(saved.status).toBe(303);
      expect(saved.headers.get("location")).toBe(`/connections/${id}?done=picked`);
      expect(await enabledTools(id)).toEqual(["add", "echo"]);
      const page = await (await get(`/connections/${id}`, owner)).text();
      expect(page).toContain("2 of 3 exposed");
      const home = await (await get("/", owner)).text();
      expect(home).toContain(">fixture</a>");
      expect(home).toContain("Connected");
    });

    test("with htmx, Add server answers with the tool picker in place of the form", async () => {
      const response = await post("/connections", owner, { name: "second", url: upstream.url, auth: "none" }, htmx);
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toStartWith('<form id="add-server"');
      expect(html).toContain("3 tools found");
      expect(response.headers.get("hx-push-url")).toBe(`/connections/${await connectionIdByName(t, workspaceId, "second")}/expose`);
    });

    test("a tool toggles with one post: a plain form is redirected, htmx gets the tool list back", async () => {
      const id = await connectionIdByName(t, workspaceId, "fixture");
      const plain = await post(`/connections/${id}/tools?tool=add`, owner, { enabled: "false" });
      expect(plain.status).toBe(303);
      expect(await enabledTools(id)).toEqual(["echo"]);
      const swapped = await post(`/connections/${id}/tools?tool=fail`, owner, { enabled: "true" }, htmx);
      expect(swapped.status).toBe(200);
      const html = await swapped.text();
      expect(html).toStartWith('<section id="tools"');
      expect(html).toContain("2 of 3 exposed");
      expect(await enabledTools(id)).toEqual(["echo", "fail"]);
      expect((await post(`/connections/${id}/tools?tool=nope`, owner, { enabled: "true" })).status).toBe(404);
    });

    test("Test a tool: the form follows the schema, a missing field is named, and the run goes through the gateway into the access log", async () => {
      const id = await connectionIdByName(t, workspaceId, "fixture");
      const form = await (await get(`/connections/${id}/test?tool=echo`, owner)).text();
      expect(form).toContain('name="arg-0"');
      expect(form).toContain("(required)");

      const missing = await post(`/connections/${id}/test?tool=echo`, owner, { "arg-0": "" }, htmx);
      expect(missing.status).toBe(422);
      expect(await missing.text()).toContain("This field is required.");

      const ran = await post(`/connections/${id}/test?tool=echo`, owner, { "arg-0": "hi <b>there</b>" }, htmx);
      expect(ran.status).toBe(200);
      const result = await ran.text();
      expect(result).toStartWith('<div id="tool-test"');
      expect(result).toContain("hi &lt;b&gt;there&lt;/b&gt;");
      expect(result).toContain("Structured content");

      const failed = await (await post(`/connections/${id}/test?tool=fail`, owner, {})).text();
      expect(failed).toContain("The tool returned an error");
      expect(failed).toContain("it failed on purpose");

      await t.gateway.deps.accessLog.flush();
      const log = await (await get("/access-log?tool=echo", owner)).text();
      expect(log).toContain("<code>echo</code>");
      expect(log).toContain("owner@example.com");
      expect(log).toContain('<span class="muted sub">dashboard</span>');
    });

    test("Re-sync shows what was added, removed and changed", async () => {
      const id = await connectionIdByName(t, workspaceId, "fixture");
      upstream.setTools(["echo", "add", "slow"]);
      const response = await post(`/connections/${id}/sync`, owner, {}, htmx);
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toStartWith('<div id="connection"');
      expect(html).toContain("Added (1): </span><span>slow");
      expect(html).toContain("Removed (1): </span><span>fail");
      const plain = await post(`/connections/${id}/sync`, owner);
      expect(plain.status).toBe(200);
      expect(await plain.text()).toContain("Synced: no changes (3 tools).");
    });

    test("a paused connection shows when it is retried and the last error in words; Retry now brings it back", async () => {
      const id = await connectionIdByName(t, workspaceId, "fixture");
      const { deps } = t.gateway;
      const connection = (await deps.toolIndex.get(workspaceId)).connections.get(id)!;
      const until = Date.UTC(2030, 0, 2, 3, 4, 5);
      await setConnectionStatus(deps, connection, "paused", "the server refused the connection", { consecutiveFailures: 5, pausedUntil: until });
      const home = await (await get("/", owner)).text();
      expect(home).toContain("Paused · retries 2030-01-02 03:04:05 UTC");
      expect(home).toContain("the server refused the connection");
      const page = await (await get(`/connections/${id}`, owner)).text();
      expect(page).toContain("Retry now");
      const retried = await post(`/connections/${id}/sync`, owner, {}, htmx);
      expect(await retried.text()).toContain("Connected");
      expect((await deps.toolIndex.get(workspaceId)).connections.get(id)!.status).toBe("connected");
      // Both changes are in the page's status history, newest first, with their reasons.
      const history = (await (await get(`/connections/${id}`, owner)).text()).split("Status history")[1]!;
      expect(history.indexOf("Paused → Connected")).toBeGreaterThan(-1);
      expect(history.indexOf("Paused → Connected")).toBeLessThan(history.indexOf("Connected → Paused"));
      expect(history).toContain("the server refused the connection");
      expect(history).toContain("retried now by a person");
    });

    test("re-authorize tries the new credential first and never shows it back", async () => {
      const added = await post("/connections", owner, { name: "secured", url: secured.url, auth: "bearer", token: "right-token-5d1c" });
      expect(added.status).toBe(303);
      const id = await connectionIdByName(t, workspaceId, "secured");
      const wrong = await post(`/connections/${id}/reauth`, owner, { auth: "bearer", token: "another-wrong-0b7e" }, htmx);
      expect(wrong.status).toBe(422);
      const html = await wrong.text();
      expect(html).toStartWith('<form id="reauth"');
      expect(html).not.toContain("another-wrong-0b7e");
      const right = await post(`/connections/${id}/reauth`, owner, { auth: "bearer", token: "right-token-5d1c" });
      expect(right.status).toBe(303);
      expect(right.headers.get("location")).toBe(`/connections/${id}?done=reauthorized`);
    });

    test("settings: a rename is checked like a new name, and saved with a redirect", async () => {
      const id = await connectionIdByName(t, workspaceId, "second");
      const bad = await post(`/connections/${id}/edit`, owner, { name: "fixture", url: upstream.url, callTimeoutMs: "" }, htmx);
      expect(bad.status).toBe(422);
      expect(await bad.text()).toContain("exists already");
      const ok = await post(`/connections/${id}/edit`, owner, { name: "renamed", url: upstream.url, callTimeoutMs: "5000" });
      expect(ok.status).toBe(303);
      const page = await (await get(`/connections/${id}`, owner)).text();
      expect(page).toContain("renamed__echo");
      expect(page).toContain("5000 ms");
    });

    test("a cross-site form post is refused and changes nothing", async () => {
      const id = await connectionIdByName(t, workspaceId, "fixture");
      const before = await enabledTools(id);
      const crossSite = { origin: "https://evil.example", "sec-fetch-site": "cross-site" };
      const add = await post("/connections", owner, { name: "evil", url: upstream.url, auth: "none" }, crossSite);
      expect(add.status).toBe(403);
      const toggle = await post(`/connections/${id}/tools?tool=echo`, owner, { enabled: "false" }, { origin: "https://evil.example" });
      expect(toggle.status).toBe(403);
      const remove = await post(`/connections/${id}/remove`, owner, {}, { "sec-fetch-site": "same-site" });
      expect(remove.status).toBe(403);
      expect(await enabledTools(id)).toEqual(before);
      expect((await get("/", owner)).status).toBe(200);
      await expect(connectionIdByName(t, workspaceId, "evil")).rejects.toThrow();
    });

    test("another workspace's connections are not found, to read or to change", async () => {
      const id = await connectionIdByName(t, workspaceId, "fixture");
      const before = await enabledTools(id);
      for (const path of [`/connections/${id}`, `/connections/${id}/test?tool=echo`, `/connections/${id}/expose`, `/connections/${id}/remove`]) {
        expect((await get(path, stranger)).status).toBe(404);
      }
      expect((await post(`/connections/${id}/tools?tool=echo`, stranger, { enabled: "false" })).status).toBe(404);
      expect((await post(`/connections/${id}/sync`, stranger)).status).toBe(404);
      expect((await post(`/connections/${id}/reauth`, stranger, { auth: "none" })).status).toBe(404);
      expect((await post(`/connections/${id}/edit`, stranger, { name: "mine", url: upstream.url })).status).toBe(404);
      expect((await post(`/connections/${id}/test?tool=echo`, stranger, { "arg-0": "x" })).status).toBe(404);
      expect((await post(`/connections/${id}/remove`, stranger)).status).toBe(404);
      expect(await enabledTools(id)).toEqual(before);
      const home = await (await get("/", stranger)).text();
      expect(home).not.toContain("fixture");
      const log = await (await get("/access-log", stranger)).text();
      expect(log).not.toContain("owner@example.com");
    });

    test("a member sees the pages read-only and cannot add, toggle, sync or remove", async () => {
      const id = await connectionIdByName(t, workspaceId, "fixture");
      const before = await enabledTools(id);
      const home = await (await get("/", member)).text();
      expect(home).toContain(">fixture</a>");
      expect(home).not.toContain('href="/connections/new"');
      const page = await (await get(`/connections/${id}`, member)).text();
      expect(page).toContain("fixture__echo");
      expect(page).not.toContain("/tools?tool=");
      expect(page).not.toContain("/remove");
      expect((await get("/connections/new", member)).status).toBe(403);
      expect((await post("/connections", member, { name: "mine", url: upstream.url, auth: "none" })).status).toBe(403);
      expect((await post(`/connections/${id}/tools?tool=echo`, member, { enabled: "false" })).status).toBe(403);
      expect((await post(`/connections/${id}/sync`, member)).status).toBe(403);
      expect((await post(`/connections/${id}/reauth`, member, { auth: "none" })).status).toBe(403);
      expect((await post(`/connections/${id}/remove`, member)).status).toBe(403);
      expect(await enabledTools(id)).toEqual(before);
      // Testing a tool changes nothing: members may, as they may call it with their own key.
      expect((await post(`/connections/${id}/test?tool=echo`, member, { "arg-0": "from a member" })).status).toBe(200);
    });

    test("signed out, every page goes to sign-in", async () => {
      const id = await connectionIdByName(t, workspaceId, "fixture");
      for (const path of ["/", `/connections/${id}`, "/connections/new", "/access-log"]) {
        const response = await fetch(`${t.url}${path}`, { redirect: "manual" });
        expect(response.status).toBe(303);
        expect(response.headers.get("location")).toBe("/sign-in");
      }
    });

    test("the access log filters, pages with Older, shows members only their own calls, and polls for newer calls", async () => {
      const { deps } = t.gateway;
      const [ownerRow] = await deps.database.db.select().from(deps.database.t.users).where(eq(deps.database.t.users.email, "owner@example.com"));
      const base = Date.now();
      for (let i = 0; i < 120; i++) {
        deps.accessLog.record({ at: base + i, workspaceId, userId: ownerRow!.id, apiKeyId: null, connectionName: "fixture", tool: `bulk_${i}`, outcome: i % 2 ? "ok" : "denied", latencyMs: i, errorSummary: null });
      }
      await deps.accessLog.flush();

      const first = await (await get("/access-log?connection=fixture&outcome=denied", owner)).text();
      expect(first).toContain("<code>bulk_118</code>");
      expect(first).toContain("<code>bulk_20</code>");
      expect(first).not.toContain("<code>bulk_119</code>");
      expect(first).not.toContain("<code>bulk_18</code>");
      const older = first.match(/href="(\/access-log\?[^"]*before=[^"]+)"/)?.[1]?.replaceAll("&amp;", "&");
      expect(older).toBeDefined();
      expect(older).toContain("outcome=denied");
      expect(older).toContain("connection=fixture");
      const second = await (await get(older!, owner)).text();
      expect(second).toContain("← Newest");
      expect(second).toContain("<code>bulk_18</code>");
      expect(second).toContain("<code>bulk_0</code>");
      expect(second).not.toContain("<code>bulk_20</code>");
      expect(second).not.toContain('hx-trigger="every 2s"');

      const poll = first.match(/hx-get="(\/access-log\/entries\?[^"]+)"/)?.[1]?.replaceAll("&amp;", "&");
      expect(poll).toContain("newest=");
      expect((await get(poll!, owner, htmx)).status).toBe(204);
      deps.accessLog.record({ at: Date.now(), workspaceId, userId: ownerRow!.id, apiKeyId: null, connectionName: "fixture", tool: "fresh_call", outcome: "denied", latencyMs: 1, errorSummary: null });
      await deps.accessLog.flush();
      const fresh = await get(poll!, owner, htmx);
      expect(fresh.status).toBe(200);
      const freshHtml = await fresh.text();
      expect(freshHtml).toStartWith('<section id="log"');
      expect(freshHtml).toContain("fresh_call");

      const mine = await (await get("/access-log", member)).text();
      expect(mine).toContain("member@example.com");
      expect(mine).not.toContain("owner@example.com</span>");
      expect(mine).not.toContain("bulk_");
      expect(mine).not.toContain('id="filter-user"');
    });

    test("Remove asks first, says the credential is deleted, and removes", async () => {
      const id = await connectionIdByName(t, workspaceId, "secured");
      const confirm = await (await get(`/connections/${id}/remove`, owner)).text();
      expect(confirm).toContain("The stored credential is deleted.");
      const removed = await post(`/connections/${id}/remove`, owner);
      expect(removed.status).toBe(303);
      expect(removed.headers.get("location")).toBe("/?done=removed");
      expect((await get(`/connections/${id}`, owner)).status).toBe(404);
      const { database } = t.gateway.deps;
      expect(await database.db.select().from(database.t.credentials).where(eq(database.t.credentials.connectionId, id))).toEqual([]);
    });
  });
}
