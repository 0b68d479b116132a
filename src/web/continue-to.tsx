import { ContinuePage } from "../../views/continue.tsx";
import { HttpError, htmlResponse, isHtmx } from "./http.ts";

/**
 * The one way the gateway sends a browser to another origin: an identity provider (SSO sign-in and
 * test sign-in), an upstream's authorization server (Connect, Re-authorize, Connect your account),
 * an OAuth client's redirect URI (the consent page's Allow and Deny).
 *
 * Chromium applies the page's CSP `form-action 'self'` to every redirect that answers a form POST,
 * the whole chain of them, so a POST answered with a redirect to another origin is blocked, with or
 * without JavaScript. Widening `form-action` per page would need each destination's origin when the
 * page is rendered (an authorization server's is only known after discovery during the POST) and
 * would still break when the destination redirects on to a third origin. So a POST is answered with
 * a small page that navigates on by itself: a navigation is not a form submission, and
 * `form-action 'self'` stays on every page. A GET (a link, a client opening the browser) is not a
 * form submission, so it gets a plain 303. htmx requests get HX-Redirect: fetch must not follow a
 * redirect to another origin.
 */
export function continueTo(request: Request, destination: string | URL, headers: Record<string, string> = {}): Response {
  const url = new URL(destination);
  // Destinations come from other servers' metadata and clients' registrations: never a javascript: URL.
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new HttpError(502, "The gateway was asked to send you to an address that is not http(s).");
  // The destination's URL may carry a code or state: it goes to nobody else, not even as a referrer.
  const common = { "cache-control": "no-store", "referrer-policy": "no-referrer", ...headers };
  if (isHtmx(request)) return new Response(null, { status: 204, headers: { ...common, "hx-redirect": url.href } });
  if (request.method === "GET" || request.method === "HEAD") return new Response(null, { status: 303, headers: { ...common, location: url.href } });
  return htmlResponse(<ContinuePage destination={url} />, 200, common);
}
