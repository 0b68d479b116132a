import { HttpError } from "./http.ts";

/**
 * CSRF defence for the dashboard: session cookies are SameSite=Lax, and every mutation must come
 * from our own origin according to the browser's Fetch Metadata (`Sec-Fetch-Site`) or, for browsers
 * without it, `Origin`. A cross-site form post or fetch carries one of them (every current browser
 * sends `Origin` on POST) and is refused; a request with neither comes from a non-browser client,
 * which cannot hold the victim's cookie. This needs no token in forms, so it works without JS.
 */
export function checkSameOrigin(request: Request, baseUrl: string): void {
  if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS") return;
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    throw new HttpError(403, "This request came from another site and was refused.");
  }
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== new URL(baseUrl).origin && origin !== new URL(request.url).origin) {
    throw new HttpError(403, "This request came from another site and was refused.");
  }
}
