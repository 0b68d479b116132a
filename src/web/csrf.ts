import { HttpError } from "./http.ts";
import { isOwnOrigin } from "./host-check.ts";

/**
 * CSRF defence for the dashboard: session cookies are SameSite=Lax, and every mutation must come
 * from our own origin according to the browser's Fetch Metadata (`Sec-Fetch-Site`) or, for browsers
 * without it, `Origin`. A cross-site form post or fetch carries one of them (every current browser
 * sends `Origin` on POST) and is refused; a request with neither comes from a non-browser client,
 * which cannot hold the victim's cookie. This needs no token in forms, so it works without JS.
 * "Our own origin" is BASE_URL's, never the request's Host: under DNS rebinding the attacker's
 * page is same-origin with its own name (see host-check.ts).
 */
export function checkSameOrigin(request: Request, baseUrl: string): void {
  if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS") return;
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    throw new HttpError(403, "This request came from another site and was refused.");
  }
  const origin = request.headers.get("origin");
  if (origin !== null && !isOwnOrigin(origin, baseUrl)) {
    throw new HttpError(403, "This request came from another site and was refused.");
  }
}
