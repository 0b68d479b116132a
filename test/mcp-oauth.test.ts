import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { authChanged } from "../src/accounts/principal-cache.ts";
import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase64urlNoPadding } from "@oslojs/encoding";
import { createApiKey } from "../src/accounts/api-keys.ts";
import { deactivateUser, reactivateUser } from "../src/accounts/members.ts";
import { newId } from "../src/crypto/tokens.ts";
import { loadMetadataDocument } from "../src/oauth-server/clients.ts";
import { createGuardedFetch } from "../src/net/guarded-fetch.ts";
import { parseUpstreamAllow, type UpstreamAllowList } from "../src/net/url-policy.ts";
import { startTlsProxy, type TlsProxy } from "./helpers/tls-proxy.ts";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api } from "./helpers/client.ts";
import { beginByUrl, connectWithTokens, TestOAuthProvider } from "./helpers/mcp-oauth-client.ts";
import { connectProvider, CookieJar, startTestIdp, walkSignIn, type TestIdp } from "./helpers/oidc-provider.ts";
import { nextLocation } from "./helpers/continue.ts";
import { insertMember } from "./helpers/members.ts";

const PASSWORD = "member password 123";
const s256 = (verifier: string): string => encodeBase64urlNoPadding(sha256(new TextEncoder().encode(verifier)));
function allowList(value: string): UpstreamAllowList {
  const parsed = parseUpstreamAllow(value);
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.allow;
}
const VERIFIER = "v".repeat(43) + "erifier-for-tests";

for (const dialect of dialects) {
  describe(`MCP clients by URL alone (OAuth) on ${dialect}`, () => {
    let t: TestGateway;
    let upstream: Upstream;
    let idp: TestIdp;
    let ownerCookie: string;
    let workspaceA: string;
    let workspaceB: string;
    const mcpUrl = (): string => `${t.url}/api/v1/mcp`;

    /** A member of `workspaceId` with a password, signed in; returns their id and cookie. */
    async function addMember(workspaceId: string, email: string): Promise<{ userId: string; cookie: string }> {
      const userId = await insertMember(t, workspaceId, email, { password: PASSWORD });
      return { userId, cookie: await signIn(t, email, PASSWORD) };
    }

    /** The browser step: the member (signed in with `cookie`) opens the authorization URL and answers the consent page. */
    async function consent(cookie: string, authorizationUrl: URL, decision = "approve"): Promise<{ page: string; location: string }> {
      const page = await fetch(authorizationUrl, { headers: { cookie }, redirect: "manual" });
      expect(page.status).toBe(200);
      const form = new URLSearchParams(authorizationUrl.searchParams);
      form.set("decision", decision);
      const answer = await fetch(`${t.url}/oauth/authorize`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, origin: t.url, "content-type": "application/x-www-form-urlencoded" },
        body: form,
      });
      // A page that continues to the client (a redirect answering a form POST would break the CSP's form-action).
      expect(answer.status).toBe(200);
      expect(answer.headers.get("cache-control")).toBe("no-store");
      expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
      return { page: await page.text(), location: (await nextLocation(answer))! };
    }

    /** Discovery, registration, consent and token exchange, all through the SDK client. */
    async function connectByUrl(cookie: string, name = "Test Agent"): Promise<TestOAuthProvider> {
      const provider = new TestOAuthProvider(undefined, name);
      const transport = await beginByUrl(t.url, provider);
      const { location } = await consent(cookie, provider.authorizationUrl!);
      await transport.finishAuth(new URL(location).searchParams);
      return provider;
    }

    const callMcp = (token: string): Promise<Response> =>
      fetch(mcpUrl(), {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
      });

    /** A registration and a code from a hand-made authorization request, to try the token endpoint with. */
    async function codeFor(cookie: string, overrides: Record<string, string> = {}): Promise<{ clientId: string; redirectUri: string; code: string }> {
      const redirectUri = "http://127.0.0.1:40000/cb";
      const registered = await fetch(`${t.url}/oauth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ client_name: "raw", redirect_uris: [redirectUri] }) });
      const clientId = ((await registered.json()) as { client_id: string }).client_id;
      const url = new URL(`${t.url}/oauth/authorize`);
      const params = { response_type: "code", client_id: clientId, redirect_uri: redirectUri, code_challenge: s256(VERIFIER), code_challenge_method: "S256", state: "st", resource: mcpUrl(), ...overrides };
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      const { location } = await consent(cookie, url);
      const code = new URL(location).searchParams.get("code");
      if (!code) throw new Error(`no code: ${location}`);
      return { clientId, redirectUri, code };
    }

    const token = (body: Record<string, string>): Promise<Response> =>
      fetch(`${t.url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body) });

    beforeAll(async () => {
      [t, upstream] = await Promise.all([startTestGateway({ dialect, env: { SSO_REVALIDATE_SECONDS: "1" } }), startUpstream({ tools: ["echo"] })]);
      const owner = await seedOwner(t);
      workspaceA = owner.workspaceId;
      await api(t.url, owner.key)("POST", "/api/v1/connections", { name: "alpha", url: upstream.url });
      // A second workspace with its own owner and connection.
      const { db, t: tables } = t.gateway.deps.database;
      workspaceB = newId();
      await db.insert(tables.workspaces).values({ id: workspaceB, name: "Other team", createdAt: Date.now() });
      const bOwner = newId();
      await db.insert(tables.users).values({ id: bOwner, email: "b-owner@example.com", name: "B", passwordHash: await Bun.password.hash(PASSWORD), createdAt: Date.now() });
      await db.insert(tables.memberships).values({ workspaceId: workspaceB, userId: bOwner, role: "owner", createdAt: Date.now() });
      const bKey = await createApiKey(t.gateway.deps.database, { workspaceId: workspaceB, userId: bOwner, name: "b" });
      if (!bKey.ok) throw new Error("key");
      expect((await api(t.url, bKey.key)("POST", "/api/v1/connections", { name: "beta", url: upstream.url })).status).toBe(201);
      ownerCookie = await signIn(t);
      idp = await startTestIdp({ redirectUris: [`${t.url}/sso/callback`], users: [{ email: "admin@example.com" }, { email: "sam@example.com" }] });
    });
    afterAll(async () => {
      await idp?.stop();
      await Promise.all([t.stop(), upstream.stop()]);
    });

    test("the protected-resource metadata names the gateway as its authorization server, whose RFC 8414 metadata says what it supports", async () => {
      const resource = (await (await fetch(`${t.url}/.well-known/oauth-protected-resource/api/v1/mcp`)).json()) as Record<string, unknown>;
      expect(resource.authorization_servers).toEqual([t.url]);
      expect(resource.scopes_supported).toEqual(["mcp"]);
      const response = await fetch(`${t.url}/.well-known/oauth-authorization-server`);
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      const as = (await response.json()) as Record<string, unknown>;
      expect(as.issuer).toBe(t.url);
      expect(as.authorization_endpoint).toBe(`${t.url}/oauth/authorize`);
      expect(as.token_endpoint).toBe(`${t.url}/oauth/token`);
      expect(as.registration_endpoint).toBe(`${t.url}/oauth/register`);
      expect(as.code_challenge_methods_supported).toEqual(["S256"]);
      expect(as.token_endpoint_auth_methods_supported).toEqual(["none"]);
      expect(as.client_id_metadata_document_supported).toBe(true);
      expect(as.response_types_supported).toEqual(["code"]);
    });

    test("registration refuses redirect URIs that are not https or loopback http, and too many of them", async () => {
      const register = (body: unknown): Promise<Response> => fetch(`${t.url}/oauth/register`, { method: "POST", headers: { "content-type": "application/json", origin: "https://app.example" }, body: JSON.stringify(body) });
      for (const uri of ["http://evil.example/cb", "javascript:alert(1)", "https://ok.example/cb#frag", "https://user:pw@ok.example/cb"]) {
        const response = await register({ redirect_uris: [uri] });
        expect(response.status).toBe(400);
        expect(((await response.json()) as { error: string }).error).toBe("invalid_redirect_uri");
      }
      expect((await register({ redirect_uris: Array.from({ length: 11 }, (_, i) => `https://ok.example/${i}`) })).status).toBe(400);
      expect((await register({ redirect_uris: ["https://ok.example/cb"], grant_types: ["client_credentials"] })).status).toBe(400);
      const ok = await register({ client_name: "Fine", redirect_uris: ["http://localhost:3000/cb", "http://[::1]:4000/cb", "https://ok.example/cb"], token_endpoint_auth_method: "client_secret_basic" });
      expect(ok.status).toBe(201);
      const body = (await ok.json()) as Record<string, unknown>;
      expect(body.client_id).toStartWith("mgwc_");
      expect(body.token_endpoint_auth_method).toBe("none");
      expect(body.client_secret).toBeUndefined();
    });

    test("the SDK client connects by URL alone: 401 → discovery → registration → sign-in and consent → tokens → tools", async () => {
      const provider = new TestOAuthProvider(undefined, '<img src=x onerror=alert(1)>Agent');
      const transport = await beginByUrl(t.url, provider);
      const authUrl = provider.authorizationUrl!;
      expect(authUrl.origin + authUrl.pathname).toBe(`${t.url}/oauth/authorize`);
      expect(authUrl.searchParams.get("code_challenge_method")).toBe("S256");
      expect(authUrl.searchParams.get("resource")).toBe(mcpUrl());

      // Not signed in: to the sign-in page, and back to the request afterwards.
      const anonymous = await fetch(authUrl, { redirect: "manual" });
      expect(anonymous.status).toBe(303);
      expect(anonymous.headers.get("location")).toBe("/sign-in");
      const returnCookie = anonymous.headers.get("set-cookie")!.split(";")[0]!;
      const signedIn = await fetch(`${t.url}/sign-in`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie: returnCookie },
        body: new URLSearchParams({ email: "owner@example.com", password: "correct horse battery" }),
      });
      expect(signedIn.status).toBe(303);
      expect(signedIn.headers.get("location")).toBe(`${authUrl.pathname}${authUrl.search}`);

      const { page, location } = await consent(ownerCookie, authUrl);
      expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;Agent");
      expect(page).not.toContain("<img src=x");
      const callback = new URL(location);
      expect(callback.origin + callback.pathname).toBe(provider.redirect);
      expect(callback.searchParams.get("state")).toBe(authUrl.searchParams.get("state"));
      expect(callback.searchParams.get("iss")).toBe(t.url);
      await transport.finishAuth(callback.searchParams);
      expect(provider.saved?.access_token).toStartWith("mgwat_");
      expect(provider.saved?.refresh_token).toStartWith("mgwrt_");

      const client = await connectWithTokens(t.url, provider);
      const tools = await client.listTools();
      expect(tools.tools.map((tool) => tool.name)).toContain("alpha__echo");
      const result = await client.callTool({ name: "alpha__echo", arguments: { message: "hi" } });
      expect(result.isError).toBeFalsy();
      await client.close();

      // Stored hashed; the access log and the keys page say which app called.
      const { db, t: tables } = t.gateway.deps.database;
      const rows = await db.select().from(tables.oauthTokens);
      expect(rows.some((r) => r.tokenHash.includes(provider.saved!.access_token))).toBe(false);
      await t.gateway.deps.accessLog.flush();
      const log = await (await fetch(`${t.url}/access-log`, { headers: { cookie: ownerCookie } })).text();
      expect(log).toContain("OAuth app");
      const keys = await (await fetch(`${t.url}/keys`, { headers: { cookie: ownerCookie } })).text();
      expect(keys).toContain("Apps you allowed");
      expect(keys).toContain("&lt;img src=x onerror=alert(1)&gt;Agent");
    });

    test("a denied consent sends access_denied back with the state", async () => {
      const provider = new TestOAuthProvider();
      await beginByUrl(t.url, provider);
      const { location } = await consent(ownerCookie, provider.authorizationUrl!, "deny");
      const answer = new URL(location).searchParams;
      expect(answer.get("error")).toBe("access_denied");
      expect(answer.get("state")).toBe(provider.authorizationUrl!.searchParams.get("state"));
      expect(answer.get("code")).toBeNull();
    });

    test("an unknown client or an unregistered redirect URI gets an error page, never a redirect", async () => {
      const { clientId } = await codeFor(ownerCookie);
      const base = { response_type: "code", code_challenge: s256(VERIFIER), code_challenge_method: "S256" };
      const bad = [
        { ...base, client_id: "mgwc_nobody", redirect_uri: "http://127.0.0.1:40000/cb" },
        { ...base, client_id: clientId, redirect_uri: "https://attacker.example/cb" },
        { ...base, client_id: clientId, redirect_uri: "http://127.0.0.1:40000/other" },
      ];
      for (const params of bad) {
        const response = await fetch(`${t.url}/oauth/authorize?${new URLSearchParams(params)}`, { headers: { cookie: ownerCookie }, redirect: "manual" });
        expect(response.status).toBe(400);
        expect(response.headers.get("location")).toBeNull();
      }
    });

    test("no PKCE, plain PKCE, or a resource of another server are answered with an error at the client's redirect URI", async () => {
      const { clientId, redirectUri } = await codeFor(ownerCookie);
      const base = { response_type: "code", client_id: clientId, redirect_uri: redirectUri, state: "s1" };
      const cases: [Record<string, string>, string][] = [
        [{}, "invalid_request"],
        [{ code_challenge: "x".repeat(43), code_challenge_method: "plain" }, "invalid_request"],
        [{ code_challenge: s256(VERIFIER), code_challenge_method: "S256", resource: "https://other.example/mcp" }, "invalid_target"],
        [{ code_challenge: s256(VERIFIER), code_challenge_method: "S256", scope: "admin" }, "invalid_scope"],
      ];
      for (const [extra, error] of cases) {
        const response = await fetch(`${t.url}/oauth/authorize?${new URLSearchParams({ ...base, ...extra })}`, { headers: { cookie: ownerCookie }, redirect: "manual" });
        expect(response.status).toBe(303);
        const answer = new URL(response.headers.get("location")!);
        expect(answer.origin + answer.pathname).toBe(redirectUri);
        expect(answer.searchParams.get("error")).toBe(error);
        expect(answer.searchParams.get("state")).toBe("s1");
      }
    });

    test("the token endpoint refuses a wrong verifier, a wrong redirect URI, another client and another resource", async () => {
      const { clientId, redirectUri, code } = await codeFor(ownerCookie);
      const good = { grant_type: "authorization_code", code, client_id: clientId, redirect_uri: redirectUri, code_verifier: VERIFIER };
      const wrongs: Record<string, string>[] = [{ code_verifier: "w".repeat(50) }, { redirect_uri: "http://127.0.0.1:40000/other" }, { client_id: "mgwc_other" }, { resource: "https://other.example/mcp" }];
      for (const wrong of wrongs) {
        const response = await token({ ...good, ...wrong });
        expect(response.status).toBe(400);
        expect(((await response.json()) as { error: string }).error).toBeOneOf(["invalid_grant", "invalid_target"]);
      }
      // None of those spent the code: the real client still redeems it.
      const ok = await token({ ...good, resource: mcpUrl() });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("cache-control")).toBe("no-store");
      const body = (await ok.json()) as { access_token: string; token_type: string; expires_in: number };
      expect(body.token_type).toBe("Bearer");
      expect(body.expires_in).toBe(3600);
      expect((await callMcp(body.access_token)).status).toBe(200);
    });

    test("a replayed code is refused and revokes the tokens issued from it", async () => {
      const { clientId, redirectUri, code } = await codeFor(ownerCookie);
      const request = { grant_type: "authorization_code", code, client_id: clientId, redirect_uri: redirectUri, code_verifier: VERIFIER };
      const first = (await (await token(request)).json()) as { access_token: string; refresh_token: string };
      expect((await callMcp(first.access_token)).status).toBe(200);
      const replay = await token(request);
      expect(replay.status).toBe(400);
      expect(((await replay.json()) as { error: string }).error).toBe("invalid_grant");
      expect((await callMcp(first.access_token)).status).toBe(401);
      expect((await token({ grant_type: "refresh_token", refresh_token: first.refresh_token, client_id: clientId })).status).toBe(400);
    });

    test("refresh tokens rotate; presenting a spent one revokes the whole family", async () => {
      const { clientId, redirectUri, code } = await codeFor(ownerCookie);
      const first = (await (await token({ grant_type: "authorization_code", code, client_id: clientId, redirect_uri: redirectUri, code_verifier: VERIFIER })).json()) as { access_token: string; refresh_token: string };
      const refreshed = await token({ grant_type: "refresh_token", refresh_token: first.refresh_token, client_id: clientId, resource: mcpUrl() });
      expect(refreshed.status).toBe(200);
      const second = (await refreshed.json()) as { access_token: string; refresh_token: string };
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect((await callMcp(second.access_token)).status).toBe(200);
      // Another client cannot use it.
      expect((await token({ grant_type: "refresh_token", refresh_token: second.refresh_token, client_id: "mgwc_other" })).status).toBe(400);

      // The first refresh token again: a thief or a replay. Everything of this grant stops.
      const replay = await token({ grant_type: "refresh_token", refresh_token: first.refresh_token, client_id: clientId });
      expect(replay.status).toBe(400);
      expect((await callMcp(second.access_token)).status).toBe(401);
      expect((await token({ grant_type: "refresh_token", refresh_token: second.refresh_token, client_id: clientId })).status).toBe(400);
    });

    test("the SDK client refreshes an expired access token by itself; the expired one gets 401 invalid_token", async () => {
      const provider = await connectByUrl(ownerCookie);
      const expired = provider.saved!.access_token;
      const { db, t: tables } = t.gateway.deps.database;
      await db.update(tables.oauthTokens).set({ expiresAt: Date.now() - 1 }).where(eq(tables.oauthTokens.kind, "access"));
      const refused = await callMcp(expired);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token"');
      expect(refused.headers.get("www-authenticate")).toContain("resource_metadata=");

      const client = await connectWithTokens(t.url, provider);
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      expect(provider.saved!.access_token).not.toBe(expired);
      await client.close();
    });

    test("a token of workspace A never sees workspace B, and the other way round", async () => {
      const a = await connectWithTokens(t.url, await connectByUrl(ownerCookie));
      const bCookie = await signIn(t, "b-owner@example.com", PASSWORD);
      const b = await connectWithTokens(t.url, await connectByUrl(bCookie));
      const aTools = (await a.listTools()).tools.map((tool) => tool.name);
      const bTools = (await b.listTools()).tools.map((tool) => tool.name);
      expect(aTools).toContain("alpha__echo");
      expect(aTools).not.toContain("beta__echo");
      expect(bTools).toContain("beta__echo");
      expect(bTools).not.toContain("alpha__echo");
      const crossed = await a.callTool({ name: "beta__echo", arguments: { message: "x" } }).catch((e: unknown) => e);
      expect(crossed instanceof Error || (crossed as { isError?: boolean }).isError === true).toBe(true);
      await Promise.all([a.close(), b.close()]);
      expect(workspaceA).not.toBe(workspaceB);
    });

    test("a disabled member's tokens stop at once; a deactivation (as SCIM does) revokes their grants", async () => {
      const member = await addMember(workspaceA, "mia@example.com");
      const provider = await connectByUrl(member.cookie, "Mia's agent");
      const access = provider.saved!.access_token;
      expect((await callMcp(access)).status).toBe(200);
      const { db, t: tables } = t.gateway.deps.database;
      // Disabled by hand here; every path in the product that disables someone also tells the
      // endpoint to forget the principals it remembers (authChanged), as this does.
      await db.update(tables.users).set({ disabledAt: Date.now() }).where(eq(tables.users.id, member.userId));
      await authChanged(t.gateway.deps.database);
      expect((await callMcp(access)).status).toBe(401);
      await db.update(tables.users).set({ disabledAt: null }).where(eq(tables.users.id, member.userId));
      expect((await callMcp(access)).status).toBe(200);

      await deactivateUser(t.gateway.deps.database, member.userId, "directory");
      expect((await callMcp(access)).status).toBe(401);
      expect((await token({ grant_type: "refresh_token", refresh_token: provider.saved!.refresh_token!, client_id: provider.client!.client_id })).status).toBe(400);
      await reactivateUser(t.gateway.deps.database, member.userId);
      expect((await callMcp(access)).status).toBe(401);
    });

    test("a member revokes an app on the keys page and its token is refused on the next request", async () => {
      const member = await addMember(workspaceA, "rex@example.com");
      const provider = await connectByUrl(member.cookie, "Rex's agent");
      const page = await (await fetch(`${t.url}/keys`, { headers: { cookie: member.cookie } })).text();
      const grantId = page.match(/\/keys\/grants\/([\w-]+)\/revoke/)![1]!;
      // Another member cannot revoke it.
      await fetch(`${t.url}/keys/grants/${grantId}/revoke`, { method: "POST", redirect: "manual", headers: { cookie: ownerCookie, origin: t.url, "content-type": "application/x-www-form-urlencoded" } });
      expect((await callMcp(provider.saved!.access_token)).status).toBe(200);
      const revoked = await fetch(`${t.url}/keys/grants/${grantId}/revoke`, { method: "POST", redirect: "manual", headers: { cookie: member.cookie, origin: t.url, "content-type": "application/x-www-form-urlencoded" } });
      expect(revoked.status).toBe(303);
      expect((await callMcp(provider.saved!.access_token)).status).toBe(401);
      expect(await (await fetch(`${t.url}/keys`, { headers: { cookie: member.cookie } })).text()).not.toContain("Rex&#39;s agent");
    });

    test("an SSO member signs in through the IdP during authorization; when the IdP refuses them later, their token stops", async () => {
      const { tested } = await connectProvider(t.url, ownerCookie, idp, { name: "Test IdP" });
      expect(tested.status).toBe(200);
      const provider = new TestOAuthProvider(undefined, "SSO agent");
      const transport = await beginByUrl(t.url, provider);
      // A fresh browser: authorize → sign-in page → "Sign in with Test IdP" → IdP login → back to authorize.
      const jar = new CookieJar();
      const first = await jar.fetch(provider.authorizationUrl!);
      expect(first.headers.get("location")).toBe("/sign-in");
      expect(await (await jar.fetch(`${t.url}/sign-in`)).text()).toContain('href="/sso/start"');
      const { response } = await walkSignIn(jar, { url: `${t.url}/sso/start` }, { email: "sam@example.com" });
      expect(response.status).toBe(303);
      const back = response.headers.get("location")!;
      expect(back).toBe(`${provider.authorizationUrl!.pathname}${provider.authorizationUrl!.search}`);
      const again = await jar.fetch(`${t.url}${back}`);
      expect(again.status).toBe(200);
      expect(await again.text()).toContain("sam@example.com");
      const form = new URLSearchParams(provider.authorizationUrl!.searchParams);
      form.set("decision", "approve");
      const answer = await jar.fetch(`${t.url}/oauth/authorize`, { method: "POST", headers: { origin: t.url, "content-type": "application/x-www-form-urlencoded" }, body: form });
      await transport.finishAuth(new URL((await nextLocation(answer))!).searchParams);
      const access = provider.saved!.access_token;
      expect((await callMcp(access)).status).toBe(200);

      await idp.revokeGrants("sam@example.com");
      t.clock.advance(1100);
      expect((await callMcp(access)).status).toBe(401);
    });
  });
}

describe("Client ID Metadata Documents", () => {
  let proxy: TlsProxy;
  let documents: ReturnType<typeof Bun.serve>;
  let fetchDocument: typeof fetch;

  beforeAll(async () => {
    proxy = await startTlsProxy();
    documents = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const path = new URL(request.url).pathname;
        const own = `${proxy.url}${path}`;
        if (path === "/good.json") return Response.json({ client_id: own, client_name: "Doc Agent", redirect_uris: ["http://127.0.0.1:3000/cb"], token_endpoint_auth_method: "none" });
        if (path === "/other.json") return Response.json({ client_id: `${proxy.url}/good.json`, client_name: "Impostor", redirect_uris: ["http://127.0.0.1:3000/cb"] });
        if (path === "/bad-redirect.json") return Response.json({ client_id: own, redirect_uris: ["http://evil.example/cb"] });
        return new Response("no", { status: 404 });
      },
    });
    proxy.setTarget(`http://127.0.0.1:${documents.port}`);
    // The gateway's own SSRF-guarded fetch, trusting the test certificate.
    const guarded = createGuardedFetch({ allow: allowList("127.0.0.1,localhost") });
    fetchDocument = Object.assign((input: string | URL | Request, init?: RequestInit) => guarded(input, { ...init, tls: { ca: proxy.ca } } as RequestInit), { preconnect: () => {} }) as typeof fetch;
  });
  afterAll(async () => {
    await proxy.stop();
    await documents.stop(true);
  });

  test("a document whose client_id is its own URL is accepted; an impostor, a bad redirect URI, a 404 or plain http are refused", async () => {
    const good = await loadMetadataDocument(fetchDocument, `${proxy.url}/good.json`);
    expect(good).toEqual({ ok: true, client: { id: `${proxy.url}/good.json`, name: "Doc Agent", redirectUris: ["http://127.0.0.1:3000/cb"], source: "metadata_document" } });
    expect((await loadMetadataDocument(fetchDocument, `${proxy.url}/other.json`)).ok).toBe(false);
    expect((await loadMetadataDocument(fetchDocument, `${proxy.url}/bad-redirect.json`)).ok).toBe(false);
    expect((await loadMetadataDocument(fetchDocument, `${proxy.url}/missing.json`)).ok).toBe(false);
    expect((await loadMetadataDocument(fetchDocument, `http://127.0.0.1:${documents.port}/good.json`)).ok).toBe(false);
    // Without the operator allowing loopback, the guarded fetch refuses the address.
    const strict = createGuardedFetch({ allow: allowList("") });
    expect((await loadMetadataDocument(strict, `${proxy.url}/good.json`)).ok).toBe(false);
  });
});
