import type { Config } from "../config.ts";
import { generateToken, tokensEqual } from "../crypto/tokens.ts";
import { consumeSsoFlow, createSsoFlow, SSO_FLOW_TTL_MS, type SsoFlow, type SsoFlowPurpose } from "./flows.ts";
import { buildAuthorizationUrl, completeAuthorization, type IdentityClaims, type OidcFailure } from "./oidc.ts";
import { getSsoProviderById, loadSsoClient, type SsoDeps, type SsoProvider } from "./providers.ts";

/**
 * The two halves of a trip through the IdP. The state also goes in a short cookie, so a callback
 * only completes in the browser that started it (no signing someone in to another person's account).
 */

export type Finished =
  | { ok: true; flow: SsoFlow; provider: SsoProvider; identity: IdentityClaims; refreshToken: string | null }
  /** `reason` is shown to whoever is in the browser; `detail` goes to the log only. */
  | { ok: false; status: number; reason: string; detail?: string };

export function ssoCallbackUrl(config: Config): string {
  return `${config.baseUrl}/sso/callback`;
}

function stateCookieName(config: Config): string {
  return config.baseUrl.startsWith("https:") ? "__Host-mgw_sso_state" : "mgw_sso_state";
}

export function ssoStateCookie(config: Config, state: string | null): string {
  const secure = config.baseUrl.startsWith("https:") ? "; Secure" : "";
  const age = state ? Math.floor(SSO_FLOW_TTL_MS / 1000) : 0;
  return `${stateCookieName(config)}=${state ?? ""}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${age}${secure}`;
}

export async function beginAuthorization(
  deps: SsoDeps,
  provider: SsoProvider,
  purpose: SsoFlowPurpose,
  userId: string | null,
  now = Date.now(),
): Promise<{ ok: true; url: URL; state: string } | OidcFailure> {
  const oidc = await loadSsoClient(deps, provider);
  if (!oidc.ok) return oidc;
  const state = generateToken(20);
  const { url, pending } = await buildAuthorizationUrl(oidc.client, { redirectUri: ssoCallbackUrl(deps.config), state, groupsClaim: provider.groupsClaim });
  await createSsoFlow(deps.database, deps.keyring, state, { workspaceId: provider.workspaceId, providerId: provider.id, purpose, userId, pending }, now);
  return { ok: true, url, state };
}

export async function finishAuthorization(deps: SsoDeps, request: Request, now = Date.now()): Promise<Finished> {
  const url = new URL(request.url);
  const state = url.searchParams.get("state");
  const cookie = new Bun.CookieMap(request.headers.get("cookie") ?? "").get(stateCookieName(deps.config));
  if (!state || !cookie || !tokensEqual(state, cookie)) {
    return { ok: false, status: 400, reason: "This sign-in was not started in this browser, or it took too long. Start again from the sign-in page." };
  }
  const flow = await consumeSsoFlow(deps.database, deps.keyring, state, now);
  if (!flow) return { ok: false, status: 400, reason: "This sign-in has expired or was already used. Start again from the sign-in page." };
  const provider = await getSsoProviderById(deps.database, flow.providerId);
  if (!provider) return { ok: false, status: 400, reason: "The identity provider was removed from this gateway." };
  const oidc = await loadSsoClient(deps, provider);
  if (!oidc.ok) return { ok: false, status: 502, reason: oidc.reason, detail: oidc.detail };
  // Behind a proxy the request URL is not the public one the IdP redirected to.
  const callbackUrl = new URL(ssoCallbackUrl(deps.config) + url.search);
  const result = await completeAuthorization(oidc.client, callbackUrl, { ...flow.pending, state });
  if (!result.ok) return { ok: false, status: 400, reason: `Signing in through ${provider.name} did not work. ${result.reason}`, detail: result.detail };
  return { ok: true, flow, provider, identity: result.identity, refreshToken: result.refreshToken };
}
