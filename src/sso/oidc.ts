import * as client from "openid-client";
import { createGuardedFetch } from "../net/guarded-fetch.ts";
import type { UpstreamAllowList } from "../net/url-policy.ts";

/** The OpenID Connect side of single sign-on, all through openid-client. */

export type OidcClientSettings = { issuer: string; clientId: string; clientSecret: string };
export type OidcClient = client.Configuration;
export type IssuerCheck = { ok: true; url: URL; insecure: boolean } | { ok: false; reason: string };
/**
 * `reason` can be shown to anyone, including someone not signed in: it never says what a name
 * resolved to, what answered, or with which status or body. `detail` is for the operator's log.
 */
export type OidcFailure = { ok: false; reason: string; detail: string };

/** What the gateway keeps between sending a member to the IdP and their return. */
export type PendingAuthorization = { codeVerifier: string; nonce: string };

/** The claims the gateway acts on, from the ID token and userinfo. */
export type IdentityClaims = {
  issuer: string;
  subject: string;
  email: string | null;
  /** null when the IdP does not say. */
  emailVerified: boolean | null;
  name: string | null;
  claims: Record<string, unknown>;
};

export type RefreshOutcome =
  /** `idToken`: the fresh ID token, when the provider sent one (ID-JAG exchanges need it). */
  | { ok: true; refreshToken: string; idToken: string | null }
  | (OidcFailure & { refused: boolean });

const TIMEOUT_SECONDS = 10;

export const ISSUER_UNREACHABLE =
  "The issuer could not be reached or is not an OpenID provider. It must be an https:// URL; plain http, and loopback or private addresses, only for hosts an operator allows in UPSTREAM_ALLOW.";
const PROVIDER_UNREACHABLE = "The identity provider could not be reached or did not answer as an OpenID provider.";

/**
 * The issuer's shape only: where it may be fetched from is the guarded fetch's decision, made on
 * every address every request resolves to (discovery, JWKS, token, userinfo, refresh). Plain http
 * gets openid-client's allowInsecureRequests, and the guarded fetch then refuses it unless an
 * operator allows the host in UPSTREAM_ALLOW.
 */
export function checkIssuerUrl(raw: string): IssuerCheck {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, reason: "Enter the issuer as a URL, like https://login.example.com/oauth2/default." };
  }
  if (url.username || url.password) return { ok: false, reason: "The issuer URL must not contain a user name or password." };
  if (url.search || url.hash) return { ok: false, reason: "The issuer URL must not have a query or fragment." };
  if (url.protocol === "https:") return { ok: true, url, insecure: false };
  if (url.protocol === "http:") return { ok: true, url, insecure: true };
  return { ok: false, reason: "The issuer must be an https:// URL." };
}

/**
 * Discovery, with client_secret_post when the provider supports it (basic otherwise). Every request
 * openid-client makes with the returned configuration goes through the guarded fetch.
 */
export async function discoverClient(settings: OidcClientSettings, allow: UpstreamAllowList): Promise<{ ok: true; client: OidcClient } | OidcFailure> {
  const issuer = checkIssuerUrl(settings.issuer);
  if (!issuer.ok) return { ...issuer, detail: issuer.reason };
  const guarded = guardedOidcFetch(allow);
  try {
    const found = await client.discovery(issuer.url, settings.clientId, settings.clientSecret, client.ClientSecretPost(settings.clientSecret), {
      execute: issuer.insecure ? [client.allowInsecureRequests] : [],
      timeout: TIMEOUT_SECONDS,
      [client.customFetch]: guarded,
    });
    const metadata = found.serverMetadata();
    // RFC 8414: a provider that lists no methods supports client_secret_basic.
    const methods = metadata.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
    if (methods.includes("client_secret_post")) return { ok: true, client: found };
    const basic = new client.Configuration(metadata, settings.clientId, settings.clientSecret, client.ClientSecretBasic(settings.clientSecret));
    if (issuer.insecure) client.allowInsecureRequests(basic);
    basic.timeout = TIMEOUT_SECONDS;
    basic[client.customFetch] = guarded;
    return { ok: true, client: basic };
  } catch (error) {
    return { ok: false, reason: ISSUER_UNREACHABLE, detail: describeError(error) };
  }
}

/** openid-client's fetch hook, answered by the guarded fetch (the body types differ only on paper). */
function guardedOidcFetch(allow: UpstreamAllowList): client.CustomFetch {
  const guarded = createGuardedFetch({ allow });
  return (url, options) => guarded(url, options as RequestInit);
}

/** Authorization code + PKCE + state + nonce. Asks for a refresh token and groups when offered. */
export async function buildAuthorizationUrl(
  oidc: OidcClient,
  input: { redirectUri: string; state: string; groupsClaim: string },
): Promise<{ url: URL; pending: PendingAuthorization }> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const offered = new Set(oidc.serverMetadata().scopes_supported ?? []);
  const scopes = ["openid", "email", "profile"];
  // No prompt=consent: providers that honour offline_access without it (Okta, Entra) then issue a
  // refresh token silently, and the others just do not.
  if (offered.has("offline_access")) scopes.push("offline_access");
  if (offered.has(input.groupsClaim)) scopes.push(input.groupsClaim);
  const url = client.buildAuthorizationUrl(oidc, {
    redirect_uri: input.redirectUri,
    scope: scopes.join(" "),
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state: input.state,
    nonce,
  });
  return { url, pending: { codeVerifier, nonce } };
}

/** Redeems the code (checking state, PKCE, nonce and the ID token) and reads userinfo. */
export async function completeAuthorization(
  oidc: OidcClient,
  callbackUrl: URL,
  expected: PendingAuthorization & { state: string },
): Promise<{ ok: true; identity: IdentityClaims; refreshToken: string | null } | OidcFailure> {
  try {
    const tokens = await client.authorizationCodeGrant(oidc, callbackUrl, {
      pkceCodeVerifier: expected.codeVerifier,
      expectedState: expected.state,
      expectedNonce: expected.nonce,
      idTokenExpected: true,
    });
    const idToken = tokens.claims();
    if (!idToken) return { ok: false, reason: "The identity provider sent no ID token.", detail: "no ID token" };
    let claims: Record<string, unknown> = { ...idToken };
    // Many providers put email and groups only in userinfo.
    if (oidc.serverMetadata().userinfo_endpoint) {
      const info = await client.fetchUserInfo(oidc, tokens.access_token, idToken.sub);
      claims = { ...claims, ...info };
    }
    const verified = claims.email_verified;
    return {
      ok: true,
      identity: {
        issuer: idToken.iss,
        subject: idToken.sub,
        email: typeof claims.email === "string" ? claims.email : null,
        emailVerified: typeof verified === "boolean" ? verified : verified === "true" ? true : verified === "false" ? false : null,
        name: typeof claims.name === "string" ? claims.name : null,
        claims,
      },
      refreshToken: tokens.refresh_token ?? null,
    };
  } catch (error) {
    return { ok: false, reason: describeAuthorizationError(error), detail: describeError(error) };
  }
}

/** `refused` only when the provider rejects the grant itself: the member lost access there. */
export async function refreshMember(oidc: OidcClient, refreshToken: string): Promise<RefreshOutcome> {
  try {
    const tokens = await client.refreshTokenGrant(oidc, refreshToken);
    return { ok: true, refreshToken: tokens.refresh_token ?? refreshToken, idToken: tokens.id_token ?? null };
  } catch (error) {
    const refused = error instanceof client.ResponseBodyError && error.error === "invalid_grant";
    return { ok: false, refused, reason: refused ? "The identity provider refused to renew the sign-in." : PROVIDER_UNREACHABLE, detail: describeError(error) };
  }
}

/**
 * The member's own trip through the IdP may end with an error the IdP sent back in the redirect
 * (access_denied, …): that code is theirs to see. Anything that came from a fetch is not.
 */
function describeAuthorizationError(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError) return `The identity provider answered ${error.error.slice(0, 64)}.`;
  return PROVIDER_UNREACHABLE;
}

/** For the operator's log; never carries a secret (openid-client messages name none). */
function describeError(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError || error instanceof client.ResponseBodyError) {
    return `The identity provider answered ${error.error}${error.error_description ? `: ${error.error_description}` : ""}`.slice(0, 300);
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`.slice(0, 300);
  }
  return "The identity provider could not be reached.";
}
