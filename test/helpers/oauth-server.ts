// A small OAuth 2.1 authorization server and an OAuth-protected MCP upstream, both on loopback,
// for tests only. The authorization server is strict where the MCP authorization spec is: PKCE
// S256 and `resource` (RFC 8707) are required and checked on authorize and token requests; it
// supports Dynamic Client Registration, Client ID Metadata Documents (it fetches the client_id URL),
// pre-registered clients, rotating refresh tokens with replay detection (a replayed refresh token
// revokes the whole grant) and revocation. The upstream is the SDK server fixture behind the SDK's
// bearer gate, answering 403 insufficient_scope with a scope challenge for tools that need more.
import { createHash, randomBytes } from "node:crypto";
import { bearerAuthChallengeResponse, OAuthError, OAuthErrorCode, requireBearerAuth, type AuthInfo } from "@modelcontextprotocol/server";
import { createUpstreamHandler, type UpstreamState } from "./upstream.ts";

type Client = { clientId: string; secret?: string; redirectUris: string[]; source: "registration" | "pre-registered" | "metadata-document" };
type Grant = { id: string; clientId: string; scope: string; resource: string; revoked: boolean };
type Code = { grantId: string; clientId: string; redirectUri: string; challenge: string; resource: string; used: boolean; expiresAt: number };
type Access = { grantId: string; scope: string; resource: string; clientId: string; expiresAt: number };
type Pending = { client: Client; params: URLSearchParams };

export type AuthServerOptions = {
  /** Lifetime of access tokens, in seconds. */
  accessTokenTtl?: number;
  /** Advertise code_challenge_methods_supported: ["S256"] (default true). */
  advertisePkce?: boolean;
  /** Advertise client_id_metadata_document_supported (default true). */
  metadataDocuments?: boolean;
  /** Offer a registration endpoint (default true). */
  registration?: boolean;
  preRegistered?: { clientId: string; clientSecret?: string; redirectUris: string[] }[];
  /** Approve without a consent page (default true). The browser test turns it off. */
  autoApprove?: boolean;
  scopesSupported?: string[];
  /** Fetch for client metadata documents (a test CA for an https gateway). */
  fetchDocument?: (url: string) => Promise<Response>;
  /** Wait this long before answering a refresh, so that concurrent refreshes overlap. */
  refreshDelayMs?: number;
};

export type TokenRequest = { grantType: string; params: Record<string, string>; clientId: string | null };

export type AuthServer = {
  issuer: string;
  /** Set by the protected upstream: the only `resource` this server issues tokens for. */
  resource: string;
  authorizeRequests: URLSearchParams[];
  tokenRequests: TokenRequest[];
  registrations: number;
  documentFetches: string[];
  refreshes: number;
  replays: number;
  /** Every token and client secret this server handed out, for leak checks. */
  issued: string[];
  /** Every access token verification, for assertions (401s come from unknown, expired or revoked tokens). */
  verify(token: string): Access | null;
  /** Revokes every grant: the next call with any token gets 401, and refreshes fail. */
  revokeAll(): void;
  /** Makes every access token unknown while grants and refresh tokens stay valid. */
  forgetAccessTokens(): void;
  clients: Map<string, Client>;
  stop(): Promise<void>;
};

const b64url = (buffer: Buffer): string => buffer.toString("base64url");
const token = (prefix: string): string => `${prefix}_${b64url(randomBytes(24))}`;

export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  const ttl = options.accessTokenTtl ?? 3600;
  const clients = new Map<string, Client>();
  for (const pre of options.preRegistered ?? []) clients.set(pre.clientId, { clientId: pre.clientId, secret: pre.clientSecret, redirectUris: pre.redirectUris, source: "pre-registered" });
  const grants = new Map<string, Grant>();
  const codes = new Map<string, Code>();
  const access = new Map<string, Access>();
  const refresh = new Map<string, { grantId: string; used: boolean }>();
  const pending = new Map<string, Pending>();

  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => handle(request) });
  const issuer = `http://127.0.0.1:${server.port}`;

  const state: AuthServer = {
    issuer,
    resource: "",
    authorizeRequests: [],
    tokenRequests: [],
    registrations: 0,
    documentFetches: [],
    refreshes: 0,
    replays: 0,
    issued: [],
    clients,
    verify(value) {
      const found = access.get(value);
      if (!found || found.expiresAt <= Date.now() || grants.get(found.grantId)?.revoked) return null;
      return found;
    },
    revokeAll() {
      for (const grant of grants.values()) grant.revoked = true;
    },
    forgetAccessTokens() {
      access.clear();
    },
    async stop() {
      await server.stop(true);
    },
  };

  function metadata(): Record<string, unknown> {
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      ...(options.registration === false ? {} : { registration_endpoint: `${issuer}/register` }),
      revocation_endpoint: `${issuer}/revoke`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
      ...(options.advertisePkce === false ? {} : { code_challenge_methods_supported: ["S256"] }),
      ...(options.metadataDocuments === false ? {} : { client_id_metadata_document_supported: true }),
      scopes_supported: options.scopesSupported ?? ["mcp", "admin"],
      authorization_response_iss_parameter_supported: true,
    };
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/.well-known/oauth-authorization-server") return Response.json(metadata());
    if (url.pathname === "/register" && request.method === "POST" && options.registration !== false) return register(request);
    if (url.pathname === "/authorize" && request.method === "GET") return authorize(url.searchParams);
    if (url.pathname === "/authorize/decision" && request.method === "POST") return decide(new URLSearchParams(await request.text()));
    if (url.pathname === "/token" && request.method === "POST") return tokenEndpoint(request);
    if (url.pathname === "/revoke" && request.method === "POST") return revoke(new URLSearchParams(await request.text()));
    return new Response("not found", { status: 404 });
  }

  async function register(request: Request): Promise<Response> {
    const body = (await request.json().catch(() => null)) as Record<string, unknown> | null;
    const uris = Array.isArray(body?.redirect_uris) ? body.redirect_uris.filter((u): u is string => typeof u === "string" && URL.canParse(u)) : [];
    if (uris.length === 0) return Response.json({ error: "invalid_redirect_uri", error_description: "redirect_uris is required" }, { status: 400 });
    const confidential = body?.token_endpoint_auth_method !== undefined && body.token_endpoint_auth_method !== "none";
    const client: Client = { clientId: token("dcr"), ...(confidential ? { secret: token("sec") } : {}), redirectUris: uris, source: "registration" };
    clients.set(client.clientId, client);
    if (client.secret) state.issued.push(client.secret);
    state.registrations++;
    return Response.json(
      { ...body, client_id: client.clientId, ...(client.secret ? { client_secret: client.secret } : {}), client_id_issued_at: Math.floor(Date.now() / 1000) },
      { status: 201 },
    );
  }

  /** A client by id: registered, pre-registered, or an https URL naming its own metadata document. */
  async function findClient(clientId: string): Promise<Client | null> {
    const known = clients.get(clientId);
    if (known) return known;
    if (options.metadataDocuments === false || !clientId.startsWith("https://")) return null;
    state.documentFetches.push(clientId);
    const response = await (options.fetchDocument ?? ((u: string) => fetch(u)))(clientId).catch(() => null);
    if (!response?.ok) return null;
    const document = (await response.json().catch(() => null)) as { client_id?: string; redirect_uris?: string[] } | null;
    // The document must name itself: otherwise anyone could claim any URL as their client id.
    if (document?.client_id !== clientId || !Array.isArray(document.redirect_uris)) return null;
    return { clientId, redirectUris: document.redirect_uris, source: "metadata-document" };
  }

  async function authorize(params: URLSearchParams): Promise<Response> {
    state.authorizeRequests.push(params);
    const client = await findClient(params.get("client_id") ?? "");
    const redirectUri = params.get("redirect_uri") ?? "";
    // Until the redirect URI is known good, errors are shown here, never sent anywhere.
    if (!client) return new Response("unknown client", { status: 400 });
    if (!client.redirectUris.includes(redirectUri)) return new Response("redirect_uri is not registered for this client", { status: 400 });
    const fail = (error: string, description: string): Response => redirectTo(redirectUri, { error, error_description: description, state: params.get("state") });
    if (params.get("response_type") !== "code") return fail("unsupported_response_type", "only code");
    if (!params.get("code_challenge") || params.get("code_challenge_method") !== "S256") return fail("invalid_request", "PKCE with S256 is required");
    if (params.get("resource") !== state.resource) return fail("invalid_target", `resource must be ${state.resource}`);
    if (options.autoApprove === false) {
      const id = token("pending");
      pending.set(id, { client, params });
      return consentPage(id, params.get("scope") ?? "");
    }
    return approve(client, params);
  }

  function approve(client: Client, params: URLSearchParams): Response {
    const grant: Grant = { id: token("grant"), clientId: client.clientId, scope: params.get("scope") ?? "mcp", resource: params.get("resource") ?? "", revoked: false };
    grants.set(grant.id, grant);
    const code = token("code");
    codes.set(code, {
      grantId: grant.id,
      clientId: client.clientId,
      redirectUri: params.get("redirect_uri") ?? "",
      challenge: params.get("code_challenge") ?? "",
      resource: grant.resource,
      used: false,
      expiresAt: Date.now() + 60_000,
    });
    return redirectTo(params.get("redirect_uri") ?? "", { code, state: params.get("state"), iss: issuer });
  }

  function decide(form: URLSearchParams): Response {
    const found = pending.get(form.get("pending") ?? "");
    if (!found) return new Response("unknown request", { status: 400 });
    pending.delete(form.get("pending") ?? "");
    if (form.get("decision") !== "approve") return redirectTo(found.params.get("redirect_uri") ?? "", { error: "access_denied", state: found.params.get("state"), iss: issuer });
    return approve(found.client, found.params);
  }

  async function tokenEndpoint(request: Request): Promise<Response> {
    const params = new URLSearchParams(await request.text());
    const basic = request.headers.get("authorization")?.match(/^Basic (.+)$/)?.[1];
    const [basicId, basicSecret] = basic ? Buffer.from(basic, "base64").toString().split(":").map(decodeURIComponent) : [];
    const clientId = basicId ?? params.get("client_id");
    const secret = basicSecret ?? params.get("client_secret") ?? undefined;
    state.tokenRequests.push({ grantType: params.get("grant_type") ?? "", params: Object.fromEntries(params), clientId: clientId ?? null });
    const client = clientId ? await findClient(clientId) : null;
    if (!client || (client.secret !== undefined && client.secret !== secret)) return oauthError("invalid_client", "client authentication failed", 401);
    if (params.get("resource") !== state.resource) return oauthError("invalid_target", `resource must be ${state.resource}`);
    if (params.get("grant_type") === "authorization_code") {
      const code = codes.get(params.get("code") ?? "");
      if (!code || code.used || code.expiresAt < Date.now() || code.clientId !== client.clientId) {
        if (code?.used) revokeGrant(code.grantId);
        return oauthError("invalid_grant", "unknown, expired or used code");
      }
      code.used = true;
      if (code.redirectUri !== params.get("redirect_uri")) return oauthError("invalid_grant", "redirect_uri differs from the authorization request");
      const verifier = params.get("code_verifier") ?? "";
      if (b64url(createHash("sha256").update(verifier).digest()) !== code.challenge) return oauthError("invalid_grant", "PKCE verification failed");
      return issue(grants.get(code.grantId)!);
    }
    if (params.get("grant_type") === "refresh_token") {
      if (options.refreshDelayMs) await Bun.sleep(options.refreshDelayMs);
      const found = refresh.get(params.get("refresh_token") ?? "");
      const grant = found ? grants.get(found.grantId) : undefined;
      if (!found || !grant || grant.clientId !== client.clientId) return oauthError("invalid_grant", "unknown refresh token");
      if (found.used) {
        // Rotation with replay detection (OAuth 2.1 §4.3.1): a spent refresh token coming back
        // means two parties hold it, so the whole grant goes.
        state.replays++;
        revokeGrant(grant.id);
        return oauthError("invalid_grant", "refresh token reuse detected; the grant is revoked");
      }
      if (grant.revoked) return oauthError("invalid_grant", "the grant was revoked");
      found.used = true;
      state.refreshes++;
      return issue(grant);
    }
    return oauthError("unsupported_grant_type", "only authorization_code and refresh_token");
  }

  function issue(grant: Grant): Response {
    const accessToken = token("at");
    const refreshToken = token("rt");
    access.set(accessToken, { grantId: grant.id, scope: grant.scope, resource: grant.resource, clientId: grant.clientId, expiresAt: Date.now() + ttl * 1000 });
    refresh.set(refreshToken, { grantId: grant.id, used: false });
    state.issued.push(accessToken, refreshToken);
    return Response.json({ access_token: accessToken, token_type: "Bearer", expires_in: ttl, refresh_token: refreshToken, scope: grant.scope }, { headers: { "cache-control": "no-store" } });
  }

  function revoke(form: URLSearchParams): Response {
    const value = form.get("token") ?? "";
    const grantId = access.get(value)?.grantId ?? refresh.get(value)?.grantId;
    if (grantId) revokeGrant(grantId);
    return new Response(null, { status: 200 });
  }

  function revokeGrant(id: string): void {
    const grant = grants.get(id);
    if (grant) grant.revoked = true;
  }

  return state;
}

function redirectTo(target: string, params: Record<string, string | null>): Response {
  const url = new URL(target);
  for (const [key, value] of Object.entries(params)) if (value !== null) url.searchParams.set(key, value);
  return new Response(null, { status: 302, headers: { location: url.toString() } });
}

function oauthError(error: string, description: string, status = 400): Response {
  return Response.json({ error, error_description: description }, { status, headers: { "cache-control": "no-store" } });
}

function consentPage(id: string, scope: string): Response {
  const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const html = `<!doctype html><html><head><title>Authorize</title></head><body>
<h1>Authorize the MCP Gateway</h1><p>It asks for: <code>${escapeHtml(scope)}</code></p>
<form method="post" action="/authorize/decision"><input type="hidden" name="pending" value="${escapeHtml(id)}">
<button id="approve" name="decision" value="approve">Approve</button> <button id="deny" name="decision" value="deny">Deny</button></form></body></html>`;
  return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
}

export type ProtectedUpstream = UpstreamState & {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  /** Requests refused with 401, and with 403 insufficient_scope. */
  refused: { unauthorized: number; insufficientScope: number };
  stop(): Promise<void>;
};

/**
 * The fixture MCP server (test/helpers/upstream.ts) behind the SDK's bearer gate: tokens are
 * checked with the authorization server (resource included), every request needs `scope`, and
 * the tools in `toolScopes` need their scope too (403 insufficient_scope otherwise).
 */
export async function startProtectedUpstream(as: AuthServer, options: { tools?: string[]; scope?: string; toolScopes?: Record<string, string> } = {}): Promise<ProtectedUpstream> {
  const inner = createUpstreamHandler({ tools: options.tools ?? ["echo", "add"], name: "oauth-upstream" });
  const baseScope = options.scope ?? "mcp";
  const refused = { unauthorized: 0, insufficientScope: 0 };
  let mcpUrl = "";
  let metadataUrl = "";
  const verifier = {
    async verifyAccessToken(value: string): Promise<AuthInfo> {
      const found = as.verify(value);
      if (!found) throw new OAuthError(OAuthErrorCode.InvalidToken, "unknown, expired or revoked token");
      return { token: value, clientId: found.clientId, scopes: found.scope.split(" "), expiresAt: Math.floor(found.expiresAt / 1000), resource: new URL(found.resource) };
    },
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/.well-known/oauth-protected-resource/mcp") {
        return Response.json({ resource: mcpUrl, authorization_servers: [as.issuer], scopes_supported: [baseScope, ...Object.values(options.toolScopes ?? {})], bearer_methods_supported: ["header"] });
      }
      if (path !== "/mcp") return new Response("not found", { status: 404 });
      const gate = requireBearerAuth({ verifier, requiredScopes: [baseScope], resourceMetadataUrl: metadataUrl, expectedResource: new URL(mcpUrl) });
      const checked = await gate(request);
      if (checked instanceof Response) {
        refused.unauthorized++;
        return checked;
      }
      const needed = await scopeNeeded(request, options.toolScopes ?? {});
      if (needed && !checked.scopes.includes(needed)) {
        refused.insufficientScope++;
        return bearerAuthChallengeResponse(new OAuthError(OAuthErrorCode.InsufficientScope, `this tool needs the ${needed} scope`), {
          requiredScopes: [...new Set([...checked.scopes, needed])],
          resourceMetadataUrl: metadataUrl,
        });
      }
      return inner.fetch(request);
    },
  });
  mcpUrl = `http://127.0.0.1:${server.port}/mcp`;
  metadataUrl = `http://127.0.0.1:${server.port}/.well-known/oauth-protected-resource/mcp`;
  as.resource = mcpUrl;
  return Object.assign(inner, {
    url: mcpUrl,
    refused,
    async stop() {
      await server.stop(true);
      await inner.close();
    },
  });
}

async function scopeNeeded(request: Request, toolScopes: Record<string, string>): Promise<string | null> {
  if (request.method !== "POST") return null;
  const body = (await request.clone().json().catch(() => null)) as { method?: string; params?: { name?: string } } | null;
  if (body?.method !== "tools/call" || typeof body.params?.name !== "string") return null;
  return toolScopes[body.params.name] ?? null;
}
