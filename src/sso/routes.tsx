import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { ErrorPage } from "../../views/auth.tsx";
import { SsoTestResultPage } from "../../views/sso.tsx";
import { continueTo } from "../web/continue-to.tsx";
import { HttpError, htmlResponse } from "../web/http.ts";
import { findSessionPrincipal, sessionCookie } from "../web/guard.ts";
import { isAdmin } from "../accounts/principal.ts";
import { readReturnTo, returnToCookie } from "../accounts/return-to.ts";
import { createSession } from "../accounts/sessions.ts";
import { beginAuthorization, finishAuthorization, ssoStateCookie } from "./authorize.ts";
import { approveSsoProvider, findActiveSsoProvider } from "./providers.ts";
import { linkSsoIdentity } from "./link.ts";
import { checkIdentity, signInWithSso } from "./sign-in.ts";
import { createRateLimiter, peerOf } from "../web/rate-limit.ts";

/**
 * /sso/start sends a member to the active provider; /sso/callback signs them in, finishes an
 * admin's test, or links the identity to the signed-in member who asked (account-routes.tsx).
 */
export function ssoRoutes(deps: AppDeps): AnyElysia {
  const { config, database, log } = deps;
  const refuse = (status: number, message: string): Response => {
    const response = htmlResponse(<ErrorPage status={status} message={message} signedIn={false} />, status);
    response.headers.append("set-cookie", ssoStateCookie(config, null));
    return response;
  };

  // Each start stores a pending flow: bound how fast one address can make them.
  const starts = createRateLimiter({ limit: 60, windowMs: 60_000 });
  return new Elysia({ name: "sso" })
    .get("/sso/start", async ({ request }) => {
      const allowed = starts.take(peerOf(request));
      if (!allowed.ok) throw new HttpError(429, `Too many sign-in attempts from this address. Try again in ${allowed.retryAfterSeconds} s.`, { "retry-after": String(allowed.retryAfterSeconds) });
      const provider = await findActiveSsoProvider(database);
      if (!provider) throw new HttpError(404, "Single sign-on is not set up on this gateway.");
      const begun = await beginAuthorization(deps, provider, "sign_in", null);
      if (!begun.ok) {
        log.warn("sso start failed", { reason: begun.detail });
        throw new HttpError(502, `${provider.name} cannot be reached right now. Try again, or sign in with a password.`);
      }
      return continueTo(request, begun.url, { "set-cookie": ssoStateCookie(config, begun.state) });
    })
    .get("/sso/callback", async ({ request }) => {
      const finished = await finishAuthorization(deps, request);
      if (!finished.ok) {
        log.info("sso sign-in refused", { reason: finished.detail ?? finished.reason });
        return refuse(finished.status, finished.reason);
      }
      const { flow, provider, identity, refreshToken } = finished;

      if (flow.purpose === "test") {
        const principal = await findSessionPrincipal(deps, request);
        if (!principal || !isAdmin(principal) || principal.userId !== flow.userId || principal.workspaceId !== provider.workspaceId) {
          return refuse(403, "Finish the test sign-in in the browser session of the admin who started it.");
        }
        const check = checkIdentity(provider, identity);
        if (check.ok) await approveSsoProvider(database, provider.id, principal.userId);
        log.info("sso test sign-in", { providerId: provider.id, ok: check.ok });
        const result = check.ok ? { ok: true as const, email: check.email, groups: check.groups, role: check.role, refreshToken: refreshToken !== null } : check;
        const response = htmlResponse(<SsoTestResultPage user={principal} providerName={provider.name} result={result} />, check.ok ? 200 : 403);
        response.headers.append("set-cookie", ssoStateCookie(config, null));
        return response;
      }

      if (provider.status !== "active") return refuse(403, "Single sign-on is not switched on for this workspace.");

      if (flow.purpose === "link") {
        // Bound to the account whose session started it, and finished in that same session.
        const principal = await findSessionPrincipal(deps, request);
        if (!principal || principal.userId !== flow.userId || principal.workspaceId !== provider.workspaceId) {
          return refuse(403, "Finish linking in the browser where you are signed in to the account that started it.");
        }
        const linked = await linkSsoIdentity(deps, provider, principal.userId, identity, refreshToken);
        if (!linked.ok) {
          log.info("sso link refused", { userId: principal.userId, providerId: provider.id, reason: linked.reason });
          return refuse(linked.status, linked.reason);
        }
        log.info("sso identity linked", { userId: principal.userId, providerId: provider.id });
        const response = new Response(null, { status: 303, headers: { location: "/account" } });
        response.headers.append("set-cookie", ssoStateCookie(config, null));
        return response;
      }

      const result = await signInWithSso(deps, provider, identity, refreshToken);
      if (!result.ok) {
        log.info("sso sign-in refused", { providerId: provider.id, reason: result.reason });
        return refuse(403, result.reason);
      }
      log.info("sso sign-in", { userId: result.userId, created: result.created });
      const session = await createSession(database, result.userId, result.workspaceId);
      // Back to an OAuth client's authorization request, if one sent the member here.
      const response = new Response(null, { status: 303, headers: { location: readReturnTo(request) } });
      response.headers.append("set-cookie", sessionCookie(config, session.token, session.expiresAt));
      response.headers.append("set-cookie", ssoStateCookie(config, null));
      response.headers.append("set-cookie", returnToCookie(config, null));
      return response;
    });
}
