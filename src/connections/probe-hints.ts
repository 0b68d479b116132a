import { createGuardedFetch } from "../net/guarded-fetch.ts";
import type { UpstreamFailure } from "../upstream/client.ts";
import type { FieldErrors } from "./checks.ts";
import type { ConnectionDeps } from "./connection-deps.ts";

/**
 * A first Add server that fails should say what to do next, in the words of the situation: a 401
 * from a server that signs in with OAuth offers OAuth; a refused token is called refused (nothing
 * is stored yet, so "re-authorize" would mislead); a URL that serves a web page says so.
 */

export type ProbeHint = { errors: FieldErrors; suggestAuth?: "oauth" };

const HINT_DEADLINE_MS = 5_000;

export const OAUTH_OFFERED = "This server signs in with OAuth: OAuth is chosen below. Add it, then Connect opens the provider to approve access.";
export const TOKEN_REFUSED = "This token was refused (401): check that it is complete and still valid, or whether the server wants it in another header.";
export const WEB_PAGE = "This URL returns a web page, not an MCP endpoint. Use the server's MCP address (often ending in /mcp), as its documentation gives it.";

/** Only called after a probe failed; each extra request goes through the guarded fetch, with a deadline. */
export async function hintForFailure(deps: Pick<ConnectionDeps, "config">, url: URL, sentCredential: boolean, failure: UpstreamFailure): Promise<ProbeHint | null> {
  const fetcher = createGuardedFetch({ allow: deps.config.upstreamAllow });
  const get = (target: string, accept: string): Promise<Response | null> =>
    fetcher(target, { headers: { accept }, signal: AbortSignal.timeout(HINT_DEADLINE_MS) }).catch(() => null);
  if (failure.kind === "auth" && (failure.httpStatus === undefined || failure.httpStatus === 401)) {
    if (sentCredential) return { errors: { auth: TOKEN_REFUSED } };
    // RFC 9728: the resource's metadata, at the path-inserted well-known address first, then the root one.
    const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
    for (const candidate of [`${url.origin}/.well-known/oauth-protected-resource${path}`, `${url.origin}/.well-known/oauth-protected-resource`]) {
      const response = await get(candidate, "application/json");
      const body = response?.ok ? ((await response.json().catch(() => null)) as { authorization_servers?: unknown } | null) : null;
      await response?.body?.cancel().catch(() => undefined);
      if (body && Array.isArray(body.authorization_servers) && body.authorization_servers.length > 0) return { errors: { auth: OAUTH_OFFERED }, suggestAuth: "oauth" };
    }
    return null;
  }
  if (failure.kind === "auth" || failure.kind === "refused_url") return null;
  const page = await get(url.toString(), "text/html");
  const type = page?.headers.get("content-type") ?? "";
  await page?.body?.cancel().catch(() => undefined);
  return page?.ok && type.toLowerCase().startsWith("text/html") ? { errors: { url: WEB_PAGE } } : null;
}
