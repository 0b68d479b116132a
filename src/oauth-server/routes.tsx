import { Elysia, type AnyElysia } from "elysia";
import { eq } from "drizzle-orm";
import type { AppDeps } from "../deps.ts";
import { createGuardedFetch } from "../net/guarded-fetch.ts";
import { AuthorizeErrorPage, ConsentPage } from "../../views/oauth-consent.tsx";
import { continueTo } from "../web/continue-to.tsx";
import { htmlResponse, jsonResponse, readForm } from "../web/http.ts";
import { findSessionPrincipal } from "../web/guard.ts";
import type { Principal } from "../accounts/principal.ts";
import { returnToCookie } from "../accounts/return-to.ts";
import { createRateLimiter, peerOf } from "../web/rate-limit.ts";
import { CLIENT_DOCUMENT_BUDGET, createClientResolver, matchesRedirectUri, registerClient, type ClientLookup, type ClientResolver } from "./clients.ts";
import { createAuthorizationCode, PKCE_CHALLENGE, redeemAuthorizationCode, type ApprovedRequest } from "./codes.ts";
import { AS_METADATA_PATH, AUTHORIZE_PATH, authorizationServerMetadata, checkScope, issuerUrl, mcpResource, REGISTER_PATH, REVOKE_PATH, TOKEN_PATH } from "./metadata.ts";
import { refreshTokens, revokeToken } from "./tokens.ts";

/** Called by clients, never with our cookies: exempt from the dashboard's same-origin check, open to CORS. */
export const CLIENT_FACING_PATHS = [TOKEN_PATH, REGISTER_PATH, REVOKE_PATH, AS_METADATA_PATH];

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, mcp-protocol-version",
};
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

type Checked =
  | { kind: "refuse"; message: string; status?: number; headers?: Record<string, string> }
  | { kind: "redirect"; location: string }
  | { kind: "ok"; request: ApprovedRequest; state: string | null };

function oauthError(error: string, description: string, status = 400): Response {
  return jsonResponse({ error, error_description: description }, status, { ...CORS, ...NO_STORE });
}

/** The authorization endpoint's checks (RFC 6749 §4.1.2.1): who to answer first, then what to say. */
async function checkAuthorizationRequest(deps: AppDeps, resolveClient: ClientResolver, params: URLSearchParams, requester: string): Promise<Checked> {
  const clientId = params.get("client_id");
  if (!clientId) return { kind: "refuse", message: "The request names no client (client_id is missing)." };
  const found = await resolveClient(clientId, requester);
  if (!found.ok) return refuseClient(deps, clientId, found);
  const { client } = found;
  const redirectUri = params.get("redirect_uri") ?? (client.redirectUris.length === 1 ? client.redirectUris[0]! : null);
  if (!redirectUri || !matchesRedirectUri(client, redirectUri)) {
    return { kind: "refuse", message: "The redirect_uri is not one this client registered, so the gateway will not send an answer there." };
  }
  const state = params.get("state");
  const answer = (error: string, description: string): Checked => {
    const url = new URL(redirectUri);
    url.searchParams.set("error", error);
    url.searchParams.set("error_description", description);
    if (state !== null) url.searchParams.set("state", state);
    url.searchParams.set("iss", issuerUrl(deps.config));
    return { kind: "redirect", location: url.href };
  };
  if (params.get("response_type") !== "code") return answer("unsupported_response_type", "Only response_type=code is supported.");
  const codeChallenge = params.get("code_challenge") ?? "";
  if (params.get("code_challenge_method") !== "S256" || !PKCE_CHALLENGE.test(codeChallenge)) {
    return answer("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256.");
  }
  const resource = params.get("resource") ?? mcpResource(deps.config);
  if (resource !== mcpResource(deps.config)) return answer("invalid_target", `This server issues tokens only for ${mcpResource(deps.config)}.`);
  const scope = checkScope(params.get("scope"));
  if (!scope.ok) return answer("invalid_scope", "Ask for the scope mcp (or none).");
  return { kind: "ok", request: { client, redirectUri, codeChallenge, resource, scope: scope.scope }, state };
}

/**
 * Anyone can send this page's request, signed in or not: what a metadata document fetch met (an
 * address a name resolved to, an HTTP status, a TLS error) would make the gateway a port scanner.
 * The page says it could not be used and gives a reference; the log keeps the reason.
 */
function refuseClient(deps: AppDeps, clientId: string, found: Extract<ClientLookup, { ok: false }>): Checked {
  if (found.refused === "not_registered") return { kind: "refuse", message: found.reason };
  if (found.refused === "rate_limited") {
    return {
      kind: "refuse",
      status: 429,
      headers: { "retry-after": String(found.retryAfterSeconds) },
      message: `Too many client metadata documents were fetched for this address; try again in ${found.retryAfterSeconds} seconds.`,
    };
  }
  const reference = crypto.randomUUID().slice(0, 8);
  deps.log.warn("client metadata document refused", { clientId, reason: found.reason, reference });
  return {
    kind: "refuse",
    message: `The gateway could not use this client's metadata document. Its operator can find the reason in the gateway's log under reference ${reference}.`,
  };
}

/** Not signed in: to the sign-in page (which offers SSO), and back here afterwards. */
function signInFirst(deps: AppDeps, params: URLSearchParams): Response {
  return new Response(null, { status: 303, headers: { location: "/sign-in", "cache-control": "no-store", "set-cookie": returnToCookie(deps.config, `${AUTHORIZE_PATH}?${params}`) } });
}

async function consentPage(deps: AppDeps, principal: Principal, checked: Extract<Checked, { kind: "ok" }>): Promise<Response> {
  const { t } = deps.database;
  const [workspace] = await deps.database.db.select({ name: t.workspaces.name }).from(t.workspaces).where(eq(t.workspaces.id, principal.workspaceId));
  const { request, state } = checked;
  const params: Record<string, string> = {
    response_type: "code",
    client_id: request.client.id,
    redirect_uri: request.redirectUri,
    code_challenge: request.codeChallenge,
    code_challenge_method: "S256",
    resource: request.resource,
    scope: request.scope,
    ...(state !== null ? { state } : {}),
  };
  const page = (
    <ConsentPage user={principal} workspaceName={workspace?.name ?? ""} client={request.client} redirectUri={request.redirectUri} params={params} />
  );
  // The consent form posts to us; its answer goes on to the client through continueTo, so the page keeps form-action 'self'.
  return htmlResponse(page, 200, { ...NO_STORE, "set-cookie": returnToCookie(deps.config, null) });
}

export function oauthServerRoutes(deps: AppDeps): AnyElysia {
  const { config, database, log } = deps;
  const resolveClient = createClientResolver(database, createGuardedFetch({ allow: config.upstreamAllow, budget: CLIENT_DOCUMENT_BUDGET }));

  // Registration is open to anyone (RFC 7591): bound how fast one address can add clients.
  const registrations = createRateLimiter({ limit: 30, windowMs: 3_600_000 });
  return new Elysia({ name: "oauth-server" })
    .get(AS_METADATA_PATH, () => jsonResponse(authorizationServerMetadata(config), 200, { ...CORS, "cache-control": "public, max-age=300" }))
    .options(AS_METADATA_PATH, () => new Response(null, { status: 204, headers: CORS }))
    .options(REGISTER_PATH, () => new Response(null, { status: 204, headers: CORS }))
    .options(TOKEN_PATH, () => new Response(null, { status: 204, headers: CORS }))
    .options(REVOKE_PATH, () => new Response(null, { status: 204, headers: CORS }))
    .post(REGISTER_PATH, async ({ request }) => {
      const allowed = registrations.take(peerOf(request));
      if (!allowed.ok) {
        return jsonResponse({ error: "too_many_requests", error_description: "Too many client registrations from this address; try again later." }, 429, { ...CORS, "retry-after": String(allowed.retryAfterSeconds) });
      }
      const text = await request.text();
      if (text.length > 16_384) return oauthError("invalid_client_metadata", "The registration is larger than 16 KiB.");
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        return oauthError("invalid_client_metadata", "Send the client metadata as JSON.");
      }
      const result = await registerClient(database, body);
      if (!result.ok) return oauthError(result.error, result.description);
      log.info("oauth client registered", { clientId: result.registration.client_id });
      return jsonResponse(result.registration, 201, { ...CORS, ...NO_STORE });
    })
    .get(AUTHORIZE_PATH, async ({ request }) => {
      const params = new URL(request.url).searchParams;
      const checked = await checkAuthorizationRequest(deps, resolveClient, params, peerOf(request));
      if (checked.kind === "refuse") return refusalPage(checked);
      if (checked.kind === "redirect") return continueTo(request, checked.location);
      const principal = await findSessionPrincipal(deps, request);
      if (!principal) return signInFirst(deps, params);
      return consentPage(deps, principal, checked);
    })
    .post(AUTHORIZE_PATH, async ({ request }) => {
      const form = await readForm(request);
      const params = new URLSearchParams(form);
      params.delete("decision");
      const checked = await checkAuthorizationRequest(deps, resolveClient, params, peerOf(request));
      if (checked.kind === "refuse") return refusalPage(checked);
      if (checked.kind === "redirect") return continueTo(request, checked.location);
      const principal = await findSessionPrincipal(deps, request);
      if (!principal) return signInFirst(deps, params);
      const answer = new URL(checked.request.redirectUri);
      if (form.decision === "approve") {
        const code = await createAuthorizationCode(database, principal, checked.request);
        answer.searchParams.set("code", code);
        log.info("oauth client approved", { clientId: checked.request.client.id, userId: principal.userId });
      } else {
        answer.searchParams.set("error", "access_denied");
        answer.searchParams.set("error_description", "The member denied access.");
      }
      if (checked.state !== null) answer.searchParams.set("state", checked.state);
      answer.searchParams.set("iss", issuerUrl(config));
      return continueTo(request, answer);
    })
    .post(TOKEN_PATH, async ({ request }) => {
      const form = await readForm(request).catch(() => null);
      if (!form) return oauthError("invalid_request", "Send the token request as application/x-www-form-urlencoded.");
      const clientId = form.client_id ?? basicClientId(request);
      if (!clientId) return oauthError("invalid_client", "client_id is required.", 401);
      const resource = form.resource ?? null;
      if (form.grant_type === "authorization_code") {
        const result = await redeemAuthorizationCode(database, { code: form.code ?? "", clientId, redirectUri: form.redirect_uri ?? "", codeVerifier: form.code_verifier ?? "", resource });
        if (!result.ok) {
          log.info("oauth code refused", { clientId, reason: result.description });
          return oauthError(result.error, result.description);
        }
        return jsonResponse(result.tokens, 200, { ...CORS, ...NO_STORE });
      }
      if (form.grant_type === "refresh_token") {
        if (form.scope && !checkScope(form.scope).ok) return oauthError("invalid_scope", "Ask for the scope mcp (or none).");
        const result = await refreshTokens(database, { refreshToken: form.refresh_token ?? "", clientId, resource });
        if (!result.ok) {
          log.info("oauth refresh refused", { clientId, reason: result.description });
          return oauthError(result.error, result.description);
        }
        return jsonResponse(result.tokens, 200, { ...CORS, ...NO_STORE });
      }
      return oauthError("unsupported_grant_type", "Use authorization_code or refresh_token.");
    })
    .post(REVOKE_PATH, async ({ request }) => {
      const form = await readForm(request).catch(() => null);
      if (!form?.token) return oauthError("invalid_request", "token is required.");
      await revokeToken(database, form.token, form.client_id ?? basicClientId(request));
      return new Response(null, { status: 200, headers: { ...CORS, ...NO_STORE } });
    });
}

function refusalPage(checked: Extract<Checked, { kind: "refuse" }>): Response {
  return htmlResponse(<AuthorizeErrorPage message={checked.message} />, checked.status ?? 400, { ...NO_STORE, ...checked.headers });
}

/** A public client may still send its id as HTTP Basic with an empty secret. */
function basicClientId(request: Request): string | null {
  const match = request.headers.get("authorization")?.match(/^Basic\s+(\S+)$/i);
  if (!match) return null;
  try {
    const [id] = atob(match[1]!).split(":");
    return id ? decodeURIComponent(id) : null;
  } catch {
    return null;
  }
}
