import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client, StreamableHTTPClientTransport, UriTemplate } from "@modelcontextprotocol/client";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api, connectClient, ERAS, type Era } from "./helpers/client.ts";
import { startItemsUpstream, type ItemsUpstream } from "./helpers/items-upstream.ts";
import { startEverything, type EverythingServer } from "./helpers/everything.ts";
import { waitFor } from "./helpers/wait.ts";
import { MAX_TOOL_LIST_PAGES } from "../src/connections/sync.ts";

/** The real SDK client straight to an upstream, as the gateway would not be there. */
async function connectDirect(url: string, era: Era = "2025-11-25"): Promise<Client> {
  const client = new Client(
    { name: "direct", version: "1.0.0" },
    (era === "2026-07-28" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : { supportedProtocolVersions: [era] }) as ConstructorParameters<typeof Client>[1],
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

const gw = (connection: string, uri: string): string => `mcpgw://${connection}/${uri}`;

/** What an answer holds besides the protocol's own bookkeeping (cache hints, _meta the SDK stamps). */
function content<T extends Record<string, unknown>>(value: T): Omit<T, "_meta" | "ttlMs" | "cacheScope" | "resultType"> {
  const { _meta: _, ttlMs: __, cacheScope: ___, resultType: ____, ...rest } = value as Record<string, unknown>;
  return rest as Omit<T, "_meta" | "ttlMs" | "cacheScope" | "resultType">;
}

function byKey<T extends Record<string, unknown>>(list: T[], key: keyof T): T[] {
  return list.toSorted((a, b) => (String(a[key]) < String(b[key]) ? -1 : String(a[key]) > String(b[key]) ? 1 : 0));
}

for (const dialect of dialects) {
  describe(`prompts, resources, templates and completions through the gateway, on ${dialect}`, () => {
    let t: TestGateway;
    let alpha: ItemsUpstream;
    let beta: ItemsUpstream;
    let key: string;
    let call: ReturnType<typeof api>;
    const direct: Record<string, Client> = {};

    beforeAll(async () => {
      alpha = await startItemsUpstream({ name: "alpha", promptPageSize: 1 });
      beta = await startItemsUpstream({ name: "beta" });
      t = await startTestGateway({ dialect });
      key = (await seedOwner(t)).key;
      call = api(t.url, key);
      for (const [name, upstream] of [["alpha", alpha], ["beta", beta]] as const) {
        const added = await call("POST", "/api/v1/connections", { name, url: upstream.url });
        expect(added.status).toBe(201);
        direct[name] = await connectDirect(upstream.url);
      }
    });
    afterAll(async () => {
      for (const client of Object.values(direct)) await client.close();
      await t?.stop();
      await alpha?.stop();
      await beta?.stop();
    });

    for (const era of ERAS) {
      describe(`a ${era} client`, () => {
        let client: Client;
        beforeAll(async () => {
          client = await connectClient(t.url, key, era);
        });
        afterAll(async () => {
          await client?.close();
        });

        test("the gateway announces prompts, resources (subscribe, listChanged) and completions", () => {
          const caps = client.getServerCapabilities();
          expect(caps?.prompts).toEqual({ listChanged: true });
          expect(caps?.resources).toEqual({ subscribe: true, listChanged: true });
          expect(caps?.completions).toEqual({});
        });

        test("prompts/list holds each upstream's prompts (paged ones too) as connection__prompt, otherwise as the upstream lists them", async () => {
          const listed = (await client.listPrompts()).prompts;
          for (const name of ["alpha", "beta"]) {
            const upstream = (await direct[name]!.listPrompts()).prompts;
            expect(listed.filter((p) => p.name.startsWith(`${name}__`))).toEqual(upstream.map((p) => ({ ...p, name: `${name}__${p.name}` })));
          }
        });

        test("prompts/get passes the arguments and answers what the upstream answers, its embedded resource pointed at the gateway", async () => {
          const args = { who: "Ada", style: "friendly" };
          const through = await client.getPrompt({ name: "alpha__greet", arguments: args });
          const straight = await direct.alpha!.getPrompt({ name: "greet", arguments: args });
          const expected = {
            ...straight,
            messages: straight.messages.map((m) => (m.content.type === "resource" ? { ...m, content: { ...m.content, resource: { ...m.content.resource, uri: gw("alpha", m.content.resource.uri) } } } : m)),
          };
          expect(content(through)).toEqual(content(expected));
          expect(JSON.stringify(through)).toContain("Hello Ada, friendly, from alpha");
        });

        test("an upstream's own error to prompts/get comes back as that JSON-RPC error", async () => {
          const error = await client.getPrompt({ name: "alpha__greet", arguments: {} }).then(() => null, (e: unknown) => e as { code?: number; message: string });
          expect(error?.code).toBe(-32602);
          expect(error?.message).toContain("greet needs who");
        });

        test("resources/list and resources/templates/list hold every upstream's, URIs as mcpgw://connection/original", async () => {
          const resources = (await client.listResources()).resources;
          const templates = (await client.listResourceTemplates()).resourceTemplates;
          for (const name of ["alpha", "beta"]) {
            const upstream = await direct[name]!.listResources();
            expect(resources.filter((r) => r.uri.startsWith(gw(name, "")))).toEqual(upstream.resources.map((r) => ({ ...r, uri: gw(name, r.uri) })));
            const upstreamTemplates = await direct[name]!.listResourceTemplates();
            expect(templates.filter((r) => r.uriTemplate.startsWith(gw(name, "")))).toEqual(upstreamTemplates.resourceTemplates.map((r) => ({ ...r, uriTemplate: gw(name, r.uriTemplate) })));
          }
        });

        test("two connections' file:///README.md are both readable, each its own", async () => {
          for (const name of ["alpha", "beta"]) {
            const through = await client.readResource({ uri: gw(name, "file:///README.md") });
            const straight = await direct[name]!.readResource({ uri: "file:///README.md" });
            expect(content(through)).toEqual({ ...content(straight), contents: straight.contents.map((c) => ({ ...c, uri: gw(name, c.uri) })) });
            expect(JSON.stringify(through)).toContain(`README of ${name}`);
          }
        });

        test("a blob resource reads as the same bytes", async () => {
          const through = await client.readResource({ uri: gw("beta", "test://blob") });
          const straight = await direct.beta!.readResource({ uri: "test://blob" });
          expect(through.contents).toEqual(straight.contents.map((c) => ({ ...c, uri: gw("beta", c.uri) })));
          expect("blob" in through.contents[0]! && through.contents[0].blob.length > 0).toBe(true);
        });

        test("a template the client expands reads what the upstream's own template expanded to", async () => {
          const template = (await client.listResourceTemplates()).resourceTemplates.find((r) => r.uriTemplate === gw("alpha", "file:///docs/{path}"));
          expect(template).toBeDefined();
          const variables = { path: "a b/ü?.md" };
          const through = await client.readResource({ uri: new UriTemplate(template!.uriTemplate).expand(variables) });
          const upstreamUri = new UriTemplate("file:///docs/{path}").expand(variables);
          const straight = await direct.alpha!.readResource({ uri: upstreamUri });
          expect(through.contents).toEqual(straight.contents.map((c) => ({ ...c, uri: gw("alpha", c.uri) })));
        });

        test("a URI of no connection, or not the gateway's, is refused with a sentence", async () => {
          for (const uri of ["file:///README.md", gw("nobody", "file:///README.md"), "mcpgw://alpha"]) {
            const error = await client.readResource({ uri }).then(() => null, (e: unknown) => e as { code?: number; message: string });
            expect(error?.code).toBe(-32602);
            expect(error?.message).toContain("mcpgw://<connection>/");
          }
        });

        test("completion/complete goes to the prompt's or the template's upstream and answers what it answers", async () => {
          const prompt = await client.complete({ ref: { type: "ref/prompt", name: "alpha__greet" }, argument: { name: "style", value: "f" } });
          const promptDirect = await direct.alpha!.complete({ ref: { type: "ref/prompt", name: "greet" }, argument: { name: "style", value: "f" } });
          expect(prompt.completion).toEqual(promptDirect.completion);
          expect(prompt.completion.values).toEqual(["formal", "friendly", "funny"]);
          const resource = await client.complete({ ref: { type: "ref/resource", uri: gw("beta", "file:///docs/{path}") }, argument: { name: "path", value: "n" } });
          const resourceDirect = await direct.beta!.complete({ ref: { type: "ref/resource", uri: "file:///docs/{path}" }, argument: { name: "path", value: "n" } });
          expect(resource.completion).toEqual(resourceDirect.completion);
          expect(resource.completion.values).toEqual(["notes.md"]);
        });
      });
    }

    test("a 2025 session that subscribed hears the upstream's resources/updated under the gateway URI; unsubscribing ends the upstream subscription", async () => {
      const client = await connectClient(t.url, key, "2025-11-25");
      const heard: string[] = [];
      client.setNotificationHandler("notifications/resources/updated", (n) => void heard.push(n.params.uri));
      try {
        await client.subscribeResource({ uri: gw("alpha", "file:///README.md") });
        alpha.touch("file:///README.md");
        beta.touch("file:///README.md");
        await waitFor(() => heard.length > 0);
        expect(heard).toEqual([gw("alpha", "file:///README.md")]);
        await client.unsubscribeResource({ uri: gw("alpha", "file:///README.md") });
      } finally {
        await client.close();
      }
    });

    test("a 2025-only upstream is subscribed with resources/subscribe once, whoever listens, and unsubscribed when the last listener goes", async () => {
      const gamma = await startItemsUpstream({ name: "gamma", legacyOnly: true });
      const added = await call("POST", "/api/v1/connections", { name: "gamma", url: gamma.url });
      expect(added.status).toBe(201);
      const uri = gw("gamma", "file:///README.md");
      const legacy = await connectClient(t.url, key, "2025-06-18");
      const modern = await connectClient(t.url, key, "2026-07-28");
      const heard: string[] = [];
      legacy.setNotificationHandler("notifications/resources/updated", (n) => void heard.push(`legacy ${n.params.uri}`));
      modern.setNotificationHandler("notifications/resources/updated", (n) => void heard.push(`modern ${n.params.uri}`));
      try {
        await legacy.subscribeResource({ uri });
        const listening = await modern.listen({ resourceSubscriptions: [uri] });
        expect(gamma.subscriptions).toEqual(["+file:///README.md"]);
        gamma.touch("file:///README.md");
        await waitFor(() => heard.length === 2, { what: "both clients hear the update" });
        expect(heard.toSorted()).toEqual([`legacy ${uri}`, `modern ${uri}`]);
        await legacy.unsubscribeResource({ uri });
        expect(gamma.subscriptions).toEqual(["+file:///README.md"]);
        await listening.close();
        await waitFor(() => gamma.subscriptions.length === 2, { what: "the upstream subscription ended" });
        expect(gamma.subscriptions).toEqual(["+file:///README.md", "-file:///README.md"]);
      } finally {
        await legacy.close();
        await modern.close();
        await call("DELETE", `/api/v1/connections/${(added.json.connection as { id: string }).id}`);
        await gamma.stop();
      }
    });

    test("a 2026-07-28 client listening for a resource hears its updates", async () => {
      const client = await connectClient(t.url, key, "2026-07-28");
      const heard: string[] = [];
      client.setNotificationHandler("notifications/resources/updated", (n) => void heard.push(n.params.uri));
      try {
        const subscription = await client.listen({ resourceSubscriptions: [gw("beta", "test://blob")] });
        await waitFor(async () => {
          beta.touch("test://blob");
          await Bun.sleep(20);
          return heard.length > 0;
        });
        expect(heard[0]).toBe(gw("beta", "test://blob"));
        await subscription.close();
      } finally {
        await client.close();
      }
    });

    test("an upstream's prompts/list_changed re-syncs, and connected clients hear prompts/list_changed", async () => {
      const client = await connectClient(t.url, key, "2025-11-25");
      let changed = 0;
      client.setNotificationHandler("notifications/prompts/list_changed", () => void changed++);
      try {
        alpha.setExtraPrompts(["later"]);
        await waitFor(async () => (await client.listPrompts()).prompts.some((p) => p.name === "alpha__later"));
        await waitFor(() => changed > 0);
      } finally {
        alpha.setExtraPrompts([]);
        await client.close();
      }
    });

    test("a prompt or resource turned off is not listed and is refused; on again it is back", async () => {
      const connections = (await call("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[];
      const id = connections.find((c) => c.name === "beta")!.id;
      const client = await connectClient(t.url, key, "2026-07-28");
      try {
        const items = (await call("GET", `/api/v1/connections/${id}`)).json.items as { kind: string; name: string; exposedName: string; enabled: boolean }[];
        expect(items).toContainEqual(expect.objectContaining({ kind: "resource", name: "file:///README.md", exposedName: gw("beta", "file:///README.md"), enabled: true }));
        expect((await call("PATCH", `/api/v1/connections/${id}/items/prompt/${encodeURIComponent("plain")}`, { enabled: false })).status).toBe(200);
        expect((await call("PATCH", `/api/v1/connections/${id}/items/resource/${encodeURIComponent("file:///README.md")}`, { enabled: false })).status).toBe(200);
        expect((await client.listPrompts()).prompts.map((p) => p.name)).not.toContain("beta__plain");
        expect((await client.listResources()).resources.map((r) => r.uri)).not.toContain(gw("beta", "file:///README.md"));
        const get = await client.getPrompt({ name: "beta__plain" }).then(() => null, (e: Error) => e.message);
        expect(get).toContain("turned off");
        const read = await client.readResource({ uri: gw("beta", "file:///README.md") }).then(() => null, (e: Error) => e.message);
        expect(read).toContain("turned off");
        // Another connection's same URI is untouched.
        expect(JSON.stringify(await client.readResource({ uri: gw("alpha", "file:///README.md") }))).toContain("README of alpha");
      } finally {
        await call("PATCH", `/api/v1/connections/${id}/items/prompt/plain`, { enabled: true });
        await call("PATCH", `/api/v1/connections/${id}/items/resource/${encodeURIComponent("file:///README.md")}`, { enabled: true });
        await client.close();
      }
      const again = await connectClient(t.url, key, "2026-07-28");
      try {
        expect((await again.getPrompt({ name: "beta__plain" })).messages[0]?.content).toEqual({ type: "text", text: "plain of beta" });
      } finally {
        await again.close();
      }
    });

    test("the connection's page lists its prompts, resources and templates beside its tools, each with a toggle that works without JavaScript", async () => {
      const cookie = await signIn(t);
      const connections = (await call("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[];
      const id = connections.find((c) => c.name === "alpha")!.id;
      const page = await (await fetch(`${t.url}/connections/${id}`, { headers: { cookie } })).text();
      for (const shown of ["alpha__greet", "alpha__plain", "mcpgw://alpha/file:///README.md", "mcpgw://alpha/test://blob", "mcpgw://alpha/file:///docs/{path}"]) expect(page).toContain(shown);
      const action = `/connections/${id}/items?kind=resource_template&name=${encodeURIComponent("file:///docs/{path}")}`;
      expect(page).toContain(`action="${action}"`);
      const post = (headers: Record<string, string>, enabled: string): Promise<Response> =>
        fetch(`${t.url}${action}`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie, ...headers }, body: new URLSearchParams({ enabled }) });
      const client = await connectClient(t.url, key, "2025-11-25");
      try {
        // A plain form post (no JavaScript) answers with a redirect back to the page.
        const off = await post({}, "false");
        expect(off.status).toBe(303);
        expect((await client.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate)).not.toContain(gw("alpha", "file:///docs/{path}"));
        // A URI only a turned-off template describes is refused; the completion for it answers nothing.
        const read = await client.readResource({ uri: gw("alpha", "file:///docs/x.md") }).then(() => null, (e: Error) => e.message);
        expect(read).toContain("turned off");
        expect((await client.complete({ ref: { type: "ref/resource", uri: gw("alpha", "file:///docs/{path}") }, argument: { name: "path", value: "" } })).completion.values).toEqual([]);
        // With htmx, the section comes back alone, the toggle's new state in it.
        const on = await post({ "hx-request": "true" }, "true");
        expect(on.status).toBe(200);
        const fragment = await on.text();
        expect(fragment).toContain('id="items"');
        expect(fragment).not.toContain("<html");
        expect((await client.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate)).toContain(gw("alpha", "file:///docs/{path}"));
      } finally {
        await client.close();
      }
      const missing = await fetch(`${t.url}/connections/${id}/items?kind=prompt&name=nope`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie }, body: "enabled=true" });
      expect(missing.status).toBe(404);
    });

    test("the access log records prompt gets and resource reads, with their kind", async () => {
      const client = await connectClient(t.url, key, "2026-07-28");
      try {
        await client.getPrompt({ name: "alpha__plain" });
        await client.readResource({ uri: gw("beta", "test://blob") });
      } finally {
        await client.close();
      }
      await t.gateway.deps.accessLog.flush();
      const entries = (await call("GET", "/api/v1/access-log?limit=200")).json.entries as { kind: string; tool: string; connectionName: string; outcome: string }[];
      expect(entries).toContainEqual(expect.objectContaining({ kind: "prompt", tool: "plain", connectionName: "alpha", outcome: "ok" }));
      expect(entries).toContainEqual(expect.objectContaining({ kind: "resource", tool: "test://blob", connectionName: "beta", outcome: "ok" }));
      const page = await (await fetch(`${t.url}/access-log?connection=beta`, { headers: { cookie: await signIn(t) } })).text();
      expect(page).toContain('<span class="badge badge-muted">Resource</span> <code>test://blob</code>');
    });
  });
}

describe("server-everything's prompts and resources through the gateway equal those direct", () => {
  let t: TestGateway;
  let everything: EverythingServer;
  let key: string;
  let straight: Client;

  beforeAll(async () => {
    everything = await startEverything();
    t = await startTestGateway();
    key = (await seedOwner(t)).key;
    expect((await api(t.url, key)("POST", "/api/v1/connections", { name: "everything", url: everything.url })).status).toBe(201);
    straight = await connectDirect(everything.url);
  });
  afterAll(async () => {
    await straight?.close();
    await t?.stop();
    await everything?.stop();
  });

  for (const era of ["2026-07-28", "2025-11-25"] as const) {
    test(`a ${era} client: prompts/list, prompts/get, resources/list, templates/list and resources/read`, async () => {
      const client = await connectClient(t.url, key, era);
      try {
        const prompts = (await client.listPrompts()).prompts.filter((p) => p.name.startsWith("everything__"));
        const directPrompts = (await straight.listPrompts()).prompts;
        // The gateway lists in name order (as it lists tools), whatever order the upstream used.
        expect(prompts).toEqual(byKey(directPrompts.map((p) => ({ ...p, name: `everything__${p.name}` })), "name"));
        const simple = directPrompts.find((p) => !p.arguments?.some((a) => a.required));
        expect(simple).toBeDefined();
        expect(content(await client.getPrompt({ name: `everything__${simple!.name}` }))).toEqual(content(await straight.getPrompt({ name: simple!.name })));

        const resources = (await client.listResources()).resources;
        const directResources = (await straight.listResources()).resources;
        expect(resources).toEqual(byKey(directResources.map((r) => ({ ...r, uri: gw("everything", r.uri) })), "uri"));
        const templates = (await client.listResourceTemplates()).resourceTemplates;
        expect(templates).toEqual(byKey((await straight.listResourceTemplates()).resourceTemplates.map((r) => ({ ...r, uriTemplate: gw("everything", r.uriTemplate) })), "uriTemplate"));
        for (const resource of directResources.slice(0, 2)) {
          const through = await client.readResource({ uri: gw("everything", resource.uri) });
          const there = await straight.readResource({ uri: resource.uri });
          expect(through.contents).toEqual(there.contents.map((c) => ({ ...c, uri: gw("everything", c.uri) })));
        }
      } finally {
        await client.close();
      }
    });
  }
});

describe("an upstream's prompts and resources cost bounded work and never leak its credential", () => {
  let t: TestGateway;
  let key: string;
  let call: ReturnType<typeof api>;
  let upstream: ItemsUpstream;
  const CANARY = "canary-token-7f3a9c2e5b1d";

  beforeAll(async () => {
    upstream = await startItemsUpstream({ name: "guarded", token: CANARY });
    t = await startTestGateway();
    key = (await seedOwner(t)).key;
    call = api(t.url, key);
    expect((await call("POST", "/api/v1/connections", { name: "guarded", url: upstream.url, auth: { kind: "bearer", token: CANARY } })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
    await upstream?.stop();
  });

  test("a resource that answers with the credential it was sent comes back redacted", async () => {
    const client = await connectClient(t.url, key, "2026-07-28");
    try {
      const read = JSON.stringify(await client.readResource({ uri: gw("guarded", "test://whoami") }));
      // Positive control: the upstream answered with what it received (it refuses requests without the token).
      expect(read).toContain("you sent: Bearer ");
      expect(read).not.toContain(CANARY);
      expect(read).toContain("[redacted]");
    } finally {
      await client.close();
    }
  });

  for (const mode of ["endless", "huge"] as const) {
    test(`a resources/list that ${mode === "endless" ? "never ends" : "is ~20 MiB"} is given up within bounds; the sync still succeeds and the last resources stay listed`, async () => {
      const id = ((await call("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[]).find((c) => c.name === "guarded")!.id;
      upstream.resourcesMode = mode;
      const before = upstream.resourceListRequests;
      try {
        const synced = await call("POST", `/api/v1/connections/${id}/sync`);
        expect(synced.status).toBe(200);
        expect(upstream.resourceListRequests - before).toBeLessThanOrEqual(mode === "endless" ? MAX_TOOL_LIST_PAGES : 1);
        const connection = (await call("GET", `/api/v1/connections/${id}`)).json.connection as { status: string };
        expect(connection.status).toBe("connected");
        const client = await connectClient(t.url, key, "2026-07-28");
        try {
          expect((await client.listResources()).resources.map((r) => r.uri)).toContain(gw("guarded", "file:///README.md"));
          expect((await client.listPrompts()).prompts.map((p) => p.name)).toContain("guarded__greet");
        } finally {
          await client.close();
        }
      } finally {
        upstream.resourcesMode = "ok";
      }
    });
  }
});
