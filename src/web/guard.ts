import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { Keyring } from "../crypto/encryption.ts";
import type { Logger } from "../log.ts";
import { hashToken } from "../crypto/tokens.ts";
import { resolveApiKey, validateApiKey } from "../accounts/api-keys.ts";
import { ACCESS_TOKEN_PREFIX, resolveAccessToken } from "../oauth-server/tokens.ts";
import { rememberedPrincipal } from "../accounts/principal-cache.ts";
import type { Principal } from "../accounts/principal.ts";
import { validateSessionToken } from "../accounts/sessions.ts";
import { revalidateSsoMember } from "../sso/revalidate.ts";
import { systemClock, type Clock } from "../clock.ts";

// Who is asking, found from a session cookie, an API key or an access token. The guards that turn
// "nobody" into 401 and "not an admin" into 403 are the plugin's macros (plugin.ts).
// The clock reaches SSO revalidation (a serving gateway passes its own).
type GuardDeps = { config: Config; database: Database; keyring: Keyring; log: Logger; clock?: Clock };

export function sessionCookieName(config: Config): string {
  // __Host- needs Secure, which needs https.
  return config.baseUrl.startsWith("https:") ? "__Host-mgw_session" : "mgw_session";
}

export function sessionCookie(config: Config, token: string, expiresAt: number): string {
  const secure = config.baseUrl.startsWith("https:") ? "; Secure" : "";
  return `${sessionCookieName(config)}=${token}; Path=/; HttpOnly; SameSite=Lax; Expires=${new Date(expiresAt).toUTCString()}${secure}`;
}

export function clearSessionCookie(config: Config): string {
  const secure = config.baseUrl.startsWith("https:") ? "; Secure" : "";
  return `${sessionCookieName(config)}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`;
}

export function readSessionToken(config: Config, request: Request): string | null {
  const header = request.headers.get("cookie");
  if (!header) return null;
  return new Bun.CookieMap(header).get(sessionCookieName(config));
}

/** The signed-in dashboard user, or null. */
export async function findSessionPrincipal(deps: GuardDeps, request: Request): Promise<Principal | null> {
  const token = readSessionToken(deps.config, request);
  if (!token) return null;
  const session = await validateSessionToken(deps.database, token);
  if (!session) return null;
  // An SSO member is re-checked at the IdP now and then; a refusal ends the session here.
  return (await revalidateSsoMember(deps, session.principal.userId)) ? session.principal : null;
}

export function readBearer(request: Request): string | null {
  const header = request.headers.get("authorization");
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

/** Whose key this is, or null: unknown, revoked, expired, or its SSO member was just refused by the IdP. */
export async function findApiKeyPrincipal(deps: GuardDeps, key: string): Promise<Principal | null> {
  const principal = await validateApiKey(deps.database, key, (deps.clock ?? systemClock)());
  return principal && (await revalidateSsoMember(deps, principal.userId)) ? principal : null;
}

/**
 * The MCP endpoint: a gateway API key, or an access token the gateway issued for `resource` after a
 * member approved a client. Both resolve to the member, with the same SSO re-check. "unavailable"
 * when the database cannot answer and no recent answer is remembered (principal-cache.ts): the
 * caller says so with a 503, never that the key is wrong.
 */
export async function findMcpPrincipal(deps: GuardDeps, token: string, resource: string): Promise<Principal | null | "unavailable"> {
  if (token.length > 200) return null;
  const policy = { rememberMs: deps.config.authCacheMs, staleIfErrorMs: deps.config.authStaleIfErrorMs, waitMs: deps.config.databaseWaitMs };
  try {
    // Remembered for AUTH_CACHE_MS at most, and forgotten at once when access changes (principal-cache.ts).
    const now = (deps.clock ?? systemClock)();
    return await rememberedPrincipal(deps.database, `${resource} ${hashToken(token)}`, policy, async () => {
      const resolved = token.startsWith(ACCESS_TOKEN_PREFIX) ? await resolveAccessToken(deps.database, token, resource) : await resolveApiKey(deps.database, token, now);
      return resolved && (await revalidateSsoMember(deps, resolved.principal.userId)) ? resolved : null;
    }, now);
  } catch (error) {
    // The driver's own message (the cause) only: a query error's message quotes its parameters, the key's hash among them.
    deps.log.warn("a key could not be checked: the database did not answer", { error: describeCause(error) });
    return "unavailable";
  }
}

function describeCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message.slice(0, 200) : "unknown error";
}
