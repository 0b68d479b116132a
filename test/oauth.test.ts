import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult, Client } from "@modelcontextprotocol/client";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api, connectClient } from "./helpers/client.ts";
import { startAuthServer, startProtectedUpstream, type AuthServer, type ProtectedUpstream } from "./helpers/oauth-server.ts";
import { authorizeConnection } from "./helpers/oauth-flow.ts";
import { startTlsProxy, type TlsProxy } from "./helpers/tls-proxy.ts";
import { FLOW_TTL_MS, saveFlow, takeFlow } from "../src/upstream/oauth/flows.ts";
import { text } from "./helpers/results.ts";

type ConnectionJson = { id: string; name: string; status: string; statusDetail: string | null; tools: number; url: string };

/** A gateway with its owner, a key and a signed-in dashboard session. */
type Rig = { t: TestGateway; key: string; cookie: string; call: ReturnType<typeof api> };

async function startRig(options: Parameters<typeof startTestGateway>[0]): Promise<Rig> {
  const t = await startTestGateway(options);
  const key = (await seedOwner(t)).key;
  return { t, key, cookie: await signIn(t), call: api(t.url, key) };
}

async function addOAuth(rig: Rig, name: string, url: string, auth: Record<string, unknown> = { kind: "oauth" }): Promise<ConnectionJson> {
  const added = await rig.call("POST", "/api/v1/connections", { name, url, auth });
  if (added.status !== 201) throw new Error(`add failed: ${added.status} ${JSON.stringify(added.json)}`);
  return added.json.connection as ConnectionJson;
}

async function connectionOf(rig: Rig, id: string): Promise<ConnectionJson> {
  return (await rig.call("GET", `/api/v1/connections/${id}`)).json.connection as ConnectionJson;
}

async function withClient<T>(rig: Rig, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(rig.t.url, rig.key);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

const callTool = (rig: Rig, name: string, args: Record<string, unknown>): Promise<CallToolResult> =>
  withClient(rig, async (client) => (await client.callTool({ name, arguments: args })) as CallToolResult);

/** Nothing the authorization server issued shows up in API answers or the gateway's log. */
async function expectNoLeak(rig: Rig, as: AuthServer, extra: string[] = []): Promise<void> {
  const listing = JSON.stringify((await rig.call("GET", "/api/v1/connections")).json);
  const logs = rig.t.logs.join("\n");
  for (const secret of [...as.issued, ...extra]) {
    expect(listing).not.toContain(secret);
    expect(logs).not.toContain(secret);
  }
}

for (const dialect of dialects) {
  describe(`upstream OAuth on ${dialect}`, () => {
    let rig: Rig;
    let as: AuthServer;
    let upstream: ProtectedUpstream;
    let linear: ConnectionJson;

    beforeAll(async () => {
      as = await startAuthServer();
      upstream = await startProtectedUpstream(as, { tools: ["echo", "add"], toolScopes: { add: "admin" } });
      rig = await startRig({ dialect });
    });
    afterAll(async () => {
      await Promise.all([rig.t.stop(), upstream.stop(), as.stop()]);
    });

    test("an OAuth server is added without a probe and waits in Needs re-auth until someone connects it", async () => {
      const before = upstream.requests.length;
      linear = await addOAuth(rig, "linear", upstream.url);
      expect(linear).toMatchObject({ status: "needs_reauth", statusDetail: "Connect to authorize", tools: 0 });
      expect(upstream.requests.length).toBe(before);
      expect(as.registrations).toBe(0);
      const early = await callTool(rig, "gateway__list_connections", {});
      expect(JSON.stringify(early.structuredContent)).toContain("needs_reauth");
    });

    test("Connect: dynamic registration, PKCE S256 and resource on both legs, then Connected with its tools", async () => {
      const { authorizationUrl, callback } = await authorizeConnection(rig.t.url, rig.key, rig.cookie, linear.id);
      expect(as.registrations).toBe(1);
      expect(as.documentFetches).toEqual([]); // http BASE_URL: no client metadata document to offer
      const params = authorizationUrl.searchParams;
      expect(params.get("code_challenge_method")).toBe("S256");
      expect(params.get("code_challenge")?.length).toBeGreaterThan(40);
      expect(params.get("resource")).toBe(upstream.url);
      expect(params.get("redirect_uri")).toBe(`${rig.t.config.baseUrl}/oauth/callback`);
      expect(params.get("scope")).toBe("mcp"); // from the 401's WWW-Authenticate challenge
      expect(params.get("state")?.length).toBeGreaterThan(30);
      expect(callback.status).toBe(303);
      expect(callback.headers.get("location")).toBe(`/connections/${linear.id}`);
      const exchange = as.tokenRequests.find((r) => r.grantType === "authorization_code")!;
      expect(exchange.params.code_verifier?.length).toBeGreaterThan(40);
      expect(exchange.params.resource).toBe(upstream.url);
      expect(await connectionOf(rig, linear.id)).toMatchObject({ status: "connected", statusDetail: null, tools: 2 });
      expect(text(await callTool(rig, "linear__echo", { message: "through oauth" }))).toBe("through oauth");
      expect(upstream.requests.at(-1)?.authorization).toMatch(/^Bearer at_/);
      await expectNoLeak(rig, as);
      // The gateway serves no client metadata document on http: an authorization server could not use it.
      expect((await fetch(`${rig.t.url}/oauth/client-metadata.json`)).status).toBe(404);
    });

    test("the authorization server itself refuses a code without the PKCE verifier or the resource", async () => {
      const client = [...as.clients.values()][0]!;
      const authorize = new URL(`${as.issuer}/authorize`);
      for (const [key, value] of Object.entries({ response_type: "code", client_id: client.clientId, redirect_uri: client.redirectUris[0]!, state: "s", resource: upstream.url })) authorize.searchParams.set(key, value);
      const noPkce = await fetch(authorize, { redirect: "manual" });
      expect(new URL(noPkce.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");
      authorize.searchParams.set("code_challenge", "x".repeat(43));
      authorize.searchParams.set("code_challenge_method", "S256");
      authorize.searchParams.set("resource", "http://127.0.0.1:1/other");
      const wrongResource = await fetch(authorize, { redirect: "manual" });
      expect(new URL(wrongResource.headers.get("location")!).searchParams.get("error")).toBe("invalid_target");
    });

    test("a replayed, forged or missing state is refused; the callback needs the person who started it", async () => {
      const started = await rig.call("POST", `/api/v1/connections/${linear.id}/oauth/start`);
      const approved = await fetch(started.json.authorizationUrl as string, { redirect: "manual" });
      const callbackUrl = approved.headers.get("location")!;
      // Not signed in: refused, and the state is not spent.
      const anonymous = await fetch(callbackUrl, { redirect: "manual" });
      expect(anonymous.status).toBe(401);
      expect(await anonymous.text()).toContain("Sign in to the dashboard");
      const first = await fetch(callbackUrl, { headers: { cookie: rig.cookie }, redirect: "manual" });
      expect(first.status).toBe(303);
      const replayed = await fetch(callbackUrl, { headers: { cookie: rig.cookie }, redirect: "manual" });
      expect(replayed.status).toBe(400);
      expect(await replayed.text()).toContain("unknown or was already used");
      const forged = new URL(callbackUrl);
      forged.searchParams.set("state", "forged-state-value-0123456789");
      const forgedAnswer = await fetch(forged, { headers: { cookie: rig.cookie }, redirect: "manual" });
      expect(forgedAnswer.status).toBe(400);
      forged.searchParams.delete("state");
      expect((await fetch(forged, { headers: { cookie: rig.cookie }, redirect: "manual" })).status).toBe(400);
      expect((await connectionOf(rig, linear.id)).status).toBe("connected");
    });

    test("a state expires after 10 minutes and works once", async () => {
      const { database, keyring } = rig.t.gateway.deps;
      const { workspaceId } = await database.db.select().from(database.t.workspaces).then((rows) => ({ workspaceId: rows[0]!.id }));
      const secret = { codeVerifier: "v", discovery: undefined, scope: undefined, display: "page" as const };
      const now = Date.now();
      await saveFlow(database, keyring, "state-expiring", { connectionId: linear.id, workspaceId, userId: null, secret }, now);
      expect(await takeFlow(database, keyring, "state-expiring", now + FLOW_TTL_MS + 1)).toEqual({ ok: false, reason: "expired" });
      await saveFlow(database, keyring, "state-fresh", { connectionId: linear.id, workspaceId, userId: null, secret }, now);
      expect((await takeFlow(database, keyring, "state-fresh", now + FLOW_TTL_MS - 1000)).ok).toBe(true);
      expect(await takeFlow(database, keyring, "state-fresh", now)).toEqual({ ok: false, reason: "unknown" });
      const [row] = await database.db.select().from(database.t.oauthFlows);
      expect(row).toBeUndefined();
    });

    test("a refused authorization leaves a working connection alone and says why", async () => {
      const started = await rig.call("POST", `/api/v1/connections/${linear.id}/oauth/start`);
      const request = new URL(started.json.authorizationUrl as string);
      const denied = new URL(request.searchParams.get("redirect_uri")!);
      denied.searchParams.set("error", "access_denied");
      denied.searchParams.set("state", request.searchParams.get("state")!);
      denied.searchParams.set("iss", as.issuer);
      const answer = await fetch(denied, { headers: { cookie: rig.cookie }, redirect: "manual" });
      expect(answer.status).toBe(400);
      expect(await answer.text()).toContain("access_denied");
      expect((await connectionOf(rig, linear.id)).status).toBe("connected");
    });

    test("20 calls arriving with a token the server no longer knows cause one refresh, and no replay", async () => {
      const refreshes = as.refreshes;
      as.forgetAccessTokens();
      const results = await withClient(rig, (client) =>
        Promise.all(Array.from({ length: 20 }, (_, i) => client.callTool({ name: "linear__echo", arguments: { message: `m${i}` } }) as Promise<CallToolResult>)),
      );
      expect(results.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(as.refreshes - refreshes).toBe(1);
      expect(as.replays).toBe(0);
      const refresh = as.tokenRequests.findLast((r) => r.grantType === "refresh_token")!;
      expect(refresh.params.resource).toBe(upstream.url);
      expect((await connectionOf(rig, linear.id)).status).toBe("connected");
      await expectNoLeak(rig, as);
    });

    test("step-up: a tool that needs more scope says so, the rest keep working, and Re-authorize asks for it", async () => {
      const refused = await callTool(rig, "linear__add", { a: 2, b: 3 });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toContain('scope "mcp admin"');
      expect(text(refused)).toContain("Re-authorize");
      expect(upstream.refused.insufficientScope).toBeGreaterThan(0);
      expect((await connectionOf(rig, linear.id)).status).toBe("connected");
      expect(text(await callTool(rig, "linear__echo", { message: "still fine" }))).toBe("still fine");
      const { authorizationUrl, callback } = await authorizeConnection(rig.t.url, rig.key, rig.cookie, linear.id);
      expect(callback.status).toBe(303);
      expect(authorizationUrl.searchParams.get("scope")?.split(" ").sort()).toEqual(["admin", "mcp"]);
      expect(as.registrations).toBe(1); // the registered client is reused
      expect(text(await callTool(rig, "linear__add", { a: 2, b: 3 }))).toBe("5");
    });

    test("a revoked grant: Needs re-auth with the reason, tools still listed, then Re-authorize brings it back", async () => {
      as.revokeAll();
      const failed = await callTool(rig, "linear__echo", { message: "x" });
      expect(failed.isError).toBe(true);
      expect(text(failed)).toContain("needs re-authorization");
      expect(text(failed)).toContain("invalid_grant");
      const after = await connectionOf(rig, linear.id);
      expect(after.status).toBe("needs_reauth");
      expect(after.statusDetail).toContain("refused to refresh the token");
      const listed = await withClient(rig, (client) => client.listTools());
      expect(listed.tools.map((tool) => tool.name)).toContain("linear__echo");
      const fast = await callTool(rig, "linear__echo", { message: "x" });
      expect(text(fast)).toContain("Re-authorize it there");
      const { callback } = await authorizeConnection(rig.t.url, rig.key, rig.cookie, linear.id);
      expect(callback.status).toBe(303);
      expect(await connectionOf(rig, linear.id)).toMatchObject({ status: "connected", statusDetail: null });
      expect(text(await callTool(rig, "linear__echo", { message: "back" }))).toBe("back");
      await expectNoLeak(rig, as);
    });
  });

  describe(`token lifetimes on ${dialect}`, () => {
    let rig: Rig;
    let as: AuthServer;
    let upstream: ProtectedUpstream;

    beforeAll(async () => {
      as = await startAuthServer({ accessTokenTtl: 2 });
      upstream = await startProtectedUpstream(as);
      rig = await startRig({ dialect });
    });
    afterAll(async () => {
      await Promise.all([rig.t.stop(), upstream.stop(), as.stop()]);
    });

    test("tokens are refreshed ahead of expiry, and 20 calls at that moment share one refresh with no replay", async () => {
      const fast = await addOAuth(rig, "fast", upstream.url);
      await authorizeConnection(rig.t.url, rig.key, rig.cookie, fast.id);
      expect(text(await callTool(rig, "fast__echo", { message: "fresh" }))).toBe("fresh");
      const refused = upstream.refused.unauthorized;
      // Past half its 2 s life, the token is due: the next call refreshes it before sending.
      rig.t.clock.advance(1100);
      const results = await withClient(rig, (client) =>
        Promise.all(Array.from({ length: 20 }, (_, i) => client.callTool({ name: "fast__echo", arguments: { message: `r${i}` } }) as Promise<CallToolResult>)),
      );
      expect(results.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
      expect(as.refreshes).toBe(1);
      expect(as.replays).toBe(0);
      expect(upstream.refused.unauthorized).toBe(refused); // never sent an expired token
      rig.t.clock.advance(1100);
      expect(text(await callTool(rig, "fast__echo", { message: "again" }))).toBe("again");
      expect(as.refreshes).toBe(2);
      expect(as.replays).toBe(0);
    }, 20_000);
  });

  describe(`client identity on ${dialect}`, () => {
    test("a client the operator registered is used as is: no registration, its secret sent to the token endpoint", async () => {
      const as = await startAuthServer({ registration: false, metadataDocuments: false });
      const upstream = await startProtectedUpstream(as);
      const rig = await startRig({ dialect });
      try {
        as.clients.set("operator-app", { clientId: "operator-app", secret: "operator-secret-4f1c", redirectUris: [`${rig.t.config.baseUrl}/oauth/callback`], source: "pre-registered" });
        const github = await addOAuth(rig, "github", upstream.url, { kind: "oauth", clientId: "operator-app", clientSecret: "operator-secret-4f1c" });
        const { authorizationUrl, callback } = await authorizeConnection(rig.t.url, rig.key, rig.cookie, github.id);
        expect(callback.status).toBe(303);
        expect(authorizationUrl.searchParams.get("client_id")).toBe("operator-app");
        expect(as.registrations).toBe(0);
        const exchange = as.tokenRequests.find((r) => r.grantType === "authorization_code")!;
        expect(exchange.clientId).toBe("operator-app");
        expect(text(await callTool(rig, "github__echo", { message: "pre-registered" }))).toBe("pre-registered");
        await expectNoLeak(rig, as, ["operator-secret-4f1c"]);
        // Re-pointing it drops the tokens (they belong to the old resource) but keeps the operator's client.
        const repointed = await rig.call("PATCH", `/api/v1/connections/${github.id}`, { url: upstream.url });
        expect(repointed.status).toBe(200);
        expect(await connectionOf(rig, github.id)).toMatchObject({ status: "needs_reauth", statusDetail: "Connect to authorize" });
        expect((await callTool(rig, "github__echo", { message: "x" })).isError).toBe(true);
        const again = await authorizeConnection(rig.t.url, rig.key, rig.cookie, github.id);
        expect(again.authorizationUrl.searchParams.get("client_id")).toBe("operator-app");
        expect(as.registrations).toBe(0);
        expect(text(await callTool(rig, "github__echo", { message: "re-pointed" }))).toBe("re-pointed");
      } finally {
        await Promise.all([rig.t.stop(), upstream.stop(), as.stop()]);
      }
    }, 20_000);

    test("an authorization server that does not advertise PKCE S256 is refused before anything is registered", async () => {
      const as = await startAuthServer({ advertisePkce: false });
      const upstream = await startProtectedUpstream(as);
      const rig = await startRig({ dialect });
      try {
        const weak = await addOAuth(rig, "weak", upstream.url);
        const started = await rig.call("POST", `/api/v1/connections/${weak.id}/oauth/start`);
        expect(started.status).toBe(502);
        expect(started.json.message).toContain("does not advertise PKCE with S256");
        expect(as.registrations).toBe(0);
        expect(as.authorizeRequests).toEqual([]);
      } finally {
        await Promise.all([rig.t.stop(), upstream.stop(), as.stop()]);
      }
    }, 20_000);

    test("with an https BASE_URL the gateway is its own client id: the server fetches its metadata document instead of registering", async () => {
      let proxy: TlsProxy | null = null;
      proxy = await startTlsProxy();
      const tls = proxy;
      const as = await startAuthServer({ fetchDocument: (url) => tls.fetch(url) });
      const upstream = await startProtectedUpstream(as);
      const rig = await startRig({ dialect, env: { BASE_URL: tls.url } });
      tls.setTarget(rig.t.url);
      try {
        const documentUrl = `${tls.url}/oauth/client-metadata.json`;
        const document = (await (await tls.fetch(documentUrl)).json()) as Record<string, unknown>;
        expect(document).toMatchObject({ client_id: documentUrl, redirect_uris: [`${tls.url}/oauth/callback`], token_endpoint_auth_method: "none" });
        const notion = await addOAuth(rig, "notion", upstream.url);
        const { authorizationUrl, callback } = await authorizeConnection(rig.t.url, rig.key, rig.cookie, notion.id, { fetchCallback: (url, init) => tls.fetch(url, init) });
        expect(authorizationUrl.searchParams.get("client_id")).toBe(documentUrl);
        expect(as.documentFetches.length).toBeGreaterThan(0);
        expect(as.registrations).toBe(0);
        expect(callback.status).toBe(303);
        expect(text(await callTool(rig, "notion__echo", { message: "by document" }))).toBe("by document");
      } finally {
        await Promise.all([rig.t.stop(), upstream.stop(), as.stop(), tls.stop()]);
      }
    }, 20_000);
  });
}
