import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { findSessionPrincipal } from "../../web/guard.ts";
import { withDeps } from "../../web/plugin.ts";
import { isAdmin, type Principal } from "../../accounts/principal.ts";
import type { ConnectionMeta } from "../../connections/types.ts";
import { HttpError, htmlResponse, jsonResponse } from "../../web/http.ts";
import { toViewer } from "../../web/viewer.ts";
import { OAuthResultPage } from "../../../views/oauth.tsx";
import { continueTo } from "../../web/continue-to.tsx";
import { CALLBACK_PATH, CLIENT_METADATA_PATH, clientMetadataDocument } from "./client-identity.ts";
import { finishAuthorization, startAuthorization } from "./authorize.ts";
import type { FlowDisplay } from "./flows.ts";

/** Connect and Re-authorize are for connections that sign in with OAuth. */
function oauthConnection(connection: ConnectionMeta): ConnectionMeta {
  if (connection.authKind !== "oauth") throw new HttpError(409, `${connection.name} does not sign in with OAuth.`);
  return connection;
}

export function wantsJson(request: Request): boolean {
  return (request.headers.get("accept") ?? "").includes("application/json");
}

/** Only http(s) URLs leave here as links or redirects; the authorization endpoint comes from a server's metadata. */
export function checkedUrl(url: string): string {
  const protocol = new URL(url).protocol;
  if (protocol !== "https:" && protocol !== "http:") throw new HttpError(502, "The authorization server gave an authorization URL that is not http(s).");
  return url;
}

/** The dashboard's answer to a started authorization: JSON for the popup script, else on to the provider. */
export function answerAuthorizationStart(
  request: Request,
  principal: Principal,
  connection: ConnectionMeta,
  started: Awaited<ReturnType<typeof startAuthorization>>,
): Response {
  const json = wantsJson(request);
  if (!started.ok) {
    if (json) return jsonResponse({ error: "authorization_failed", message: started.reason }, 502);
    return htmlResponse(<OAuthResultPage user={toViewer(principal)} ok={false} message={started.reason} connection={connection} />, 502);
  }
  const url = checkedUrl(started.authorizationUrl);
  if (json) return jsonResponse({ authorizationUrl: url, expiresAt: started.expiresAt });
  return continueTo(request, url);
}

/** Connect / Re-authorize, the callback, and our Client ID Metadata Document. */
export function oauthRoutes(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "oauth" })
    .use(withDeps(deps))
    .get(CLIENT_METADATA_PATH, () => {
      const document = clientMetadataDocument(deps.config);
      if (!document) throw new HttpError(404, "The client metadata document is served only when BASE_URL is https.");
      return jsonResponse(document, 200, { "cache-control": "public, max-age=3600" });
    })
    // The dashboard: JSON for the popup script, a forwarding page for a plain form post.
    .post("/connections/:id/oauth/start", async ({ request, principal, connection: own }) => {
      const connection = oauthConnection(own);
      const display: FlowDisplay = wantsJson(request) ? "popup" : "page";
      const started = await startAuthorization(deps, connection, { userId: principal.userId, display });
      return answerAuthorizationStart(request, principal, connection, started);
    }, { admin: true, connection: true })
    // The API: the URL to open in a browser signed in to the dashboard as the same user.
    .post("/api/v1/connections/:id/oauth/start", async ({ principal, connection: own }) => {
      const connection = oauthConnection(own);
      const started = await startAuthorization(deps, connection, { userId: principal.userId, display: "page" });
      if (!started.ok) return jsonResponse({ error: "authorization_failed", message: started.reason }, 502);
      return jsonResponse({ authorizationUrl: checkedUrl(started.authorizationUrl), expiresAt: started.expiresAt });
    }, { apiAdmin: true, connection: true })
    .get(CALLBACK_PATH, async ({ request }) => {
      // The session is checked before the state is spent: signing in and reloading still works.
      const principal = await findSessionPrincipal(deps, request);
      if (!principal) {
        const message = "Sign in to the dashboard in this browser as the person who started this authorization, then reload this page.";
        return htmlResponse(<OAuthResultPage user={null} ok={false} message={message} connection={null} />, 401);
      }
      const query = new URL(request.url).searchParams;
      const result = await finishAuthorization(deps, query, { userId: principal.userId, workspaceId: principal.workspaceId });
      // An admin whose connection's tools nobody has picked yet lands on the pick step: nothing is exposed before.
      // A pick leaves "expose new tools" as it was (off by default), so "picked" is "some tool is on".
      const pick = result.ok && !result.connection.exposeNewTools && isAdmin(principal) && !(await anyToolExposed(deps, result.connection));
      const target = result.connection ? `/connections/${encodeURIComponent(result.connection.id)}${pick ? "/expose" : ""}` : "/";
      if (result.display === "page" && result.ok) return new Response(null, { status: 303, headers: { location: target } });
      const message = result.ok ? `${result.connection.name} is connected with ${result.tools} tools. You can close this window.` : result.reason;
      return htmlResponse(<OAuthResultPage user={toViewer(principal)} ok={result.ok} message={message} connection={result.connection} />, result.ok ? 200 : 400);
    });
}

/** Whether any of the connection's tools is exposed: an admin has picked them before. */
async function anyToolExposed(deps: AppDeps, connection: { id: string; workspaceId: string }): Promise<boolean> {
  const index = await deps.toolIndex.get(connection.workspaceId);
  for (const route of index.routes.values()) if (route.connectionId === connection.id && route.enabled) return true;
  return false;
}
