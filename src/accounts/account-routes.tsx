import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { AccountPage, PasswordSection, type PasswordSectionProps } from "../../views/account.tsx";
import { continueTo } from "../web/continue-to.tsx";
import { HttpError, htmlResponse, isHtmx, readForm, redirect } from "../web/http.ts";
import { readSessionToken } from "../web/guard.ts";
import { hashToken } from "../crypto/tokens.ts";
import { changePassword, userHasPassword } from "./passwords.ts";
import { withDeps } from "../web/plugin.ts";
import type { Principal } from "./principal.ts";
import { beginAuthorization, ssoStateCookie } from "../sso/authorize.ts";
import { findLinkedIdentity, unlinkUserIdentities } from "../sso/identities.ts";
import { getSsoProvider, type SsoProvider } from "../sso/providers.ts";

/**
 * The signed-in person's own page. Linking SSO to an existing account happens only here: the POST
 * needs their session and passes the same-origin check (app.ts), the flow records their user id,
 * and the callback binds the identity only in a browser still signed in as them.
 */
export function accountRoutes(deps: AppDeps): AnyElysia {
  const { database, config, log } = deps;
  const activeProvider = async (principal: Principal): Promise<SsoProvider | null> => {
    const provider = await getSsoProvider(database, principal.workspaceId);
    return provider?.status === "active" ? provider : null;
  };

  const hasPassword = (principal: Principal): Promise<boolean> => userHasPassword(database, principal.userId);
  const page = async (principal: Principal, password: PasswordSectionProps): Promise<JSX.Element> => {
    const provider = await activeProvider(principal);
    const linked = provider ? await findLinkedIdentity(database, principal.userId, provider.id) : null;
    const sso = provider ? { providerName: provider.name, linkedAt: linked?.createdAt ?? null } : null;
    return <AccountPage user={{ email: principal.email, role: principal.role }} sso={sso} password={password} />;
  };

  return new Elysia({ name: "account" })
    .use(withDeps(deps))
    .get("/account", async ({ request, principal }) => {
      const notice = new URL(request.url).searchParams.get("done") === "password" ? "Your password was changed. Your other sessions have ended." : undefined;
      return htmlResponse(await page(principal, { hasPassword: await hasPassword(principal), notice }));
    }, { member: true })
    .post("/account/password", async ({ request, principal }) => {
      const form = await readForm(request);
      const token = readSessionToken(config, request);
      const result = await changePassword(database, principal.userId, { current: form.current ?? "", password: form.password ?? "", confirm: form.confirm ?? "" }, token ? hashToken(token) : null);
      if (!result.ok) {
        const props = { hasPassword: await hasPassword(principal), errors: result.errors };
        return htmlResponse(isHtmx(request) ? <PasswordSection {...props} /> : await page(principal, props), 422);
      }
      log.info("password changed", { userId: principal.userId });
      if (!isHtmx(request)) return redirect(request, "/account?done=password");
      return htmlResponse(<PasswordSection hasPassword notice="Your password was changed. Your other sessions have ended." />);
    }, { member: true })
    .post("/account/sso/link", async ({ request, principal }) => {
      const provider = await activeProvider(principal);
      if (!provider) throw new HttpError(404, "Single sign-on is not switched on for this workspace.");
      const begun = await beginAuthorization(deps, provider, "link", principal.userId);
      if (!begun.ok) {
        log.warn("sso link start failed", { reason: begun.detail });
        throw new HttpError(502, begun.reason);
      }
      return continueTo(request, begun.url, { "set-cookie": ssoStateCookie(config, begun.state) });
    }, { member: true })
    .post("/account/sso/unlink", async ({ request, principal }) => {
      const removed = await unlinkUserIdentities(database, principal.workspaceId, principal.userId);
      if (removed > 0) log.info("sso identity unlinked", { userId: principal.userId });
      return redirect(request, "/account");
    }, { member: true });
}
