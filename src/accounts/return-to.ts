import type { Config } from "../config.ts";

/**
 * Where a sign-in goes afterwards. Only an OAuth authorization request sets it (a client sent the
 * member to the gateway, who must sign in first, through SSO or a password); it survives the trip
 * through the identity provider as a short-lived cookie, and only same-site paths are honoured.
 */

const COOKIE = "mgw_return_to";
const ALLOWED = /^\/oauth\/authorize\?[^\s\\]*$/;

export function returnToCookie(config: Config, path: string | null): string {
  const secure = config.baseUrl.startsWith("https:") ? "; Secure" : "";
  if (path === null) return `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`;
  return `${COOKIE}=${encodeURIComponent(path)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600${secure}`;
}

/** The path to go to after signing in: the remembered authorization request, or the dashboard. */
export function readReturnTo(request: Request): string {
  const header = request.headers.get("cookie");
  const value = header ? new Bun.CookieMap(header).get(COOKIE) : null;
  return value && ALLOWED.test(value) ? value : "/";
}
