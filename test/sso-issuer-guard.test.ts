import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { CookieJar } from "./helpers/oidc-provider.ts";

const UNREACHABLE = "The issuer could not be reached or is not an OpenID provider.";

type Listener = { url: string; port: number; hits: string[]; stop(): void };

/**
 * Something on this machine that answers like an OpenID provider (or with `status`), counting every
 * request, so a test can tell whether the gateway reached it at all.
 */
function listen(hostname: string, options: { status?: number; tokenEndpoint?: string } = {}): Listener {
  const hits: string[] = [];
  const server: Bun.Server<undefined> = Bun.serve({
    hostname,
    port: 0,
    fetch(request): Response {
      const url = new URL(request.url);
      hits.push(`${request.method} ${url.pathname}`);
      if (options.status) return new Response("internal detail from 10.9.8.7", { status: options.status });
      const origin: string = `http://${hostname}:${server.port}`;
      if (url.pathname === "/.well-known/openid-configuration") {
        return Response.json({
          issuer: origin,
          authorization_endpoint: `${origin}/authorize`,
          token_endpoint: options.tokenEndpoint ?? `${origin}/token`,
          jwks_uri: `${origin}/jwks`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
          token_endpoint_auth_methods_supported: ["client_secret_post"],
        });
      }
      return Response.json({ error: "invalid_request", error_description: `nothing at ${url.pathname} on ${origin}` }, { status: 400 });
    },
  });
  return { url: `http://${hostname}:${server.port}`, port: server.port!, hits, stop: () => server.stop(true) };
}

/** The issuer field's message on the re-rendered settings form. */
function issuerError(html: string): string {
  return html.match(/id="issuer-error"[^>]*>([^<]*)</)?.[1] ?? "";
}

describe("SSO issuers go through the URL policy", () => {
  let strict: TestGateway;
  let narrow: TestGateway;
  let strictCookie: string;
  let narrowCookie: string;
  let idp: Listener;
  let failing: Listener;
  let tokenSink: Listener;
  let tokenIdp: Listener;

  const save = (t: TestGateway, cookie: string, issuer: string): Promise<Response> =>
    fetch(`${t.url}/settings/sso`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie },
      body: new URLSearchParams({ issuer, clientId: "gateway", clientSecret: "a-client-secret-of-some-length" }),
    });

  beforeAll(async () => {
    // No UPSTREAM_ALLOW at all: nothing on loopback or a private network may be reached.
    strict = await startTestGateway({ env: { UPSTREAM_ALLOW: "" } });
    // Only 127.0.0.1: 127.0.0.2, also loopback, stays out of reach.
    narrow = await startTestGateway({ env: { UPSTREAM_ALLOW: "127.0.0.1" } });
    await Promise.all([seedOwner(strict), seedOwner(narrow)]);
    strictCookie = await signIn(strict);
    narrowCookie = await signIn(narrow);
    idp = listen("127.0.0.1");
    failing = listen("127.0.0.1", { status: 500 });
    tokenSink = listen("127.0.0.2");
    tokenIdp = listen("127.0.0.1", { tokenEndpoint: `${tokenSink.url}/token` });
  });
  afterAll(async () => {
    for (const listener of [idp, failing, tokenSink, tokenIdp]) listener.stop();
    await Promise.all([strict.stop(), narrow.stop()]);
  });

  test("saving an issuer on a loopback, metadata or private address is refused unless an operator allows it, and the message says nothing of what answered", async () => {
    const issuers = [
      idp.url,
      `https://127.0.0.1:${idp.port}`,
      `http://localhost:${idp.port}`,
      `http://[::1]:${idp.port}`,
      "http://169.254.169.254",
      "https://169.254.169.254/latest",
      "https://10.0.0.1",
      "http://10.1.2.3:8080/realms/x",
      "https://2130706433",
    ];
    const messages = new Set<string>();
    for (const issuer of issuers) {
      const response = await save(strict, strictCookie, issuer);
      expect(response.status).toBe(422);
      const message = issuerError(await response.text());
      expect(message).toStartWith(UNREACHABLE);
      for (const leak of ["127.0.0", "169.254", "10.0.0.1", "10.1.2.3", String(idp.port), "8080", "::1", "resolves", "metadata", "refused", "ECONNREFUSED"]) {
        expect(message).not.toContain(leak);
      }
      messages.add(message);
    }
    // One sentence for every address: nothing to tell them apart by.
    expect(messages.size).toBe(1);
    expect(idp.hits).toEqual([]);
  });

  test("an issuer the operator allows is saved (the positive control)", async () => {
    const response = await save(narrow, narrowCookie, idp.url);
    expect(response.status).toBe(303);
    expect(idp.hits).toContain("GET /.well-known/openid-configuration");
  });

  test("an allowed issuer that answers with an error gets the same sentence, without its status or body", async () => {
    const response = await save(narrow, narrowCookie, failing.url);
    expect(response.status).toBe(422);
    const message = issuerError(await response.text());
    expect(message).toStartWith(UNREACHABLE);
    expect(failing.hits.length).toBeGreaterThan(0);
    for (const leak of ["500", "10.9.8.7", "internal detail", String(failing.port)]) expect(message).not.toContain(leak);
  });

  test("the token endpoint a provider names is fetched through the same guard: a disallowed one is never reached", async () => {
    expect((await save(narrow, narrowCookie, tokenIdp.url)).status).toBe(303);
    // Switched on directly: the test sign-in would stop at the same token request.
    const { db, t: tables } = narrow.gateway.deps.database;
    await db.update(tables.ssoProviders).set({ status: "active", approvedAt: Date.now() });

    const jar = new CookieJar();
    const started = await jar.fetch(`${narrow.url}/sso/start`);
    expect(started.status).toBe(303);
    const location = new URL(started.headers.get("location")!);
    expect(location.origin).toBe(tokenIdp.url);
    const state = location.searchParams.get("state")!;
    const callback = await jar.fetch(`${narrow.url}/sso/callback?${new URLSearchParams({ code: "a-code", state })}`);
    expect(callback.status).toBe(400);
    const page = await callback.text();
    expect(page).toContain("did not work");
    for (const leak of ["127.0.0.2", String(tokenSink.port), "resolves", "loopback"]) expect(page).not.toContain(leak);
    expect(tokenSink.hits).toEqual([]);
  });
});
