import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { InvitePage, LinkGonePage, ResetPasswordPage } from "../../views/password-link.tsx";
import { htmlResponse, readForm, redirect } from "../web/http.ts";
import { sessionCookie } from "../web/guard.ts";
import { acceptInvite, findInvite } from "./invites.ts";
import { findPasswordReset, usePasswordReset } from "./passwords.ts";
import { createSession } from "./sessions.ts";

/**
 * The pages one-time links open, for people not signed in. The token travels in the query (GET)
 * and a hidden field (POST), never the path, which is logged. No-store: a back button or a shared
 * cache never shows the page, and its token, again.
 */
const NO_STORE = { "cache-control": "no-store" };

function tokenOf(request: Request): string {
  return (new URL(request.url).searchParams.get("token") ?? "").trim();
}

export function linkRoutes(deps: AppDeps): AnyElysia {
  const { database, config, log } = deps;
  return new Elysia({ name: "one-time-links" })
    .get("/invite", async ({ request }) => {
      const token = tokenOf(request);
      const found = await findInvite(database, token, deps.clock());
      if (!found.ok) return htmlResponse(<LinkGonePage reason={found.reason} />, 410, NO_STORE);
      return htmlResponse(<InvitePage token={token} email={found.invite.email} role={found.invite.role} />, 200, NO_STORE);
    })
    .post("/invite", async ({ request }) => {
      const form = await readForm(request);
      const token = form.token ?? "";
      const result = await acceptInvite(database, token, { name: form.name, password: form.password ?? "" }, deps.clock());
      if (!result.ok && "reason" in result) return htmlResponse(<LinkGonePage reason={result.reason} />, 410, NO_STORE);
      if (!result.ok) {
        const found = await findInvite(database, token, deps.clock());
        if (!found.ok) return htmlResponse(<LinkGonePage reason={found.reason} />, 410, NO_STORE);
        return htmlResponse(<InvitePage token={token} email={found.invite.email} role={found.invite.role} name={form.name} errors={result.errors} />, 422, NO_STORE);
      }
      log.info("invitation accepted", { userId: result.userId, workspaceId: result.workspaceId });
      const session = await createSession(database, result.userId, result.workspaceId);
      const response = redirect(request, "/");
      response.headers.append("set-cookie", sessionCookie(config, session.token, session.expiresAt));
      return response;
    })
    .get("/reset-password", async ({ request }) => {
      const token = tokenOf(request);
      const found = await findPasswordReset(database, token, deps.clock());
      if (!found) return htmlResponse(<LinkGonePage reason="reset" />, 410, NO_STORE);
      return htmlResponse(<ResetPasswordPage token={token} email={found.email} />, 200, NO_STORE);
    })
    .post("/reset-password", async ({ request }) => {
      const form = await readForm(request);
      const token = form.token ?? "";
      const result = await usePasswordReset(database, token, { password: form.password ?? "", confirm: form.confirm ?? "" }, deps.clock());
      if (!result.ok && "gone" in result) return htmlResponse(<LinkGonePage reason="reset" />, 410, NO_STORE);
      if (!result.ok) {
        const found = await findPasswordReset(database, token, deps.clock());
        if (!found) return htmlResponse(<LinkGonePage reason="reset" />, 410, NO_STORE);
        return htmlResponse(<ResetPasswordPage token={token} email={found.email} errors={result.errors} />, 422, NO_STORE);
      }
      log.info("password reset through a one-time link");
      return redirect(request, "/sign-in");
    });
}
