import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { SetupForm, SetupPage, SignInForm, SignInPage } from "../../views/auth.tsx";
import { htmlResponse, isHtmx, readForm, redirect } from "../web/http.ts";
import { isSetupDone, setupOwner, verifyMemberPassword } from "./accounts.ts";
import { clearSessionCookie, findSessionPrincipal, readSessionToken, sessionCookie } from "../web/guard.ts";
import { clearSignInFailures, recordSignInFailure, signInWaitMs } from "./sign-in-limit.ts";
import { readReturnTo, returnToCookie } from "./return-to.ts";
import { createSession, invalidateSession } from "./sessions.ts";
import { findActiveSsoProvider } from "../sso/providers.ts";

export function authRoutes(deps: AppDeps): AnyElysia {
  const { database, config, log } = deps;
  const ssoChoices = async (): Promise<{ name: string; href: string }[]> => {
    const provider = await findActiveSsoProvider(database);
    return provider ? [{ name: provider.name, href: "/sso/start" }] : [];
  };
  return new Elysia({ name: "auth" })
    .get("/setup", async ({ request }) => {
      if (await isSetupDone(database)) return redirect(request, "/sign-in");
      return htmlResponse(<SetupPage />);
    })
    .post("/setup", async ({ request }) => {
      const form = await readForm(request);
      const result = await setupOwner(database, { email: form.email ?? "", password: form.password ?? "", workspaceName: form.workspace });
      if (!result.ok) {
        const body = isHtmx(request) ? <SetupForm email={form.email} errors={result.errors} /> : <SetupPage email={form.email} errors={result.errors} />;
        return htmlResponse(body, 422);
      }
      log.info("gateway set up", { userId: result.userId, workspaceId: result.workspaceId });
      const session = await createSession(database, result.userId, result.workspaceId);
      const response = redirect(request, "/");
      response.headers.append("set-cookie", sessionCookie(config, session.token, session.expiresAt));
      return response;
    })
    .get("/sign-in", async ({ request }) => {
      if (!(await isSetupDone(database))) return redirect(request, "/setup");
      if (await findSessionPrincipal(deps, request)) return redirect(request, readReturnTo(request));
      return htmlResponse(<SignInPage sso={await ssoChoices()} />);
    })
    .post("/sign-in", async ({ request }) => {
      const form = await readForm(request);
      const email = form.email ?? "";
      const render = async (errors: Record<string, string>, status: number): Promise<Response> =>
        htmlResponse(isHtmx(request) ? <SignInForm email={email} errors={errors} /> : <SignInPage email={email} errors={errors} sso={await ssoChoices()} />, status);

      const waitMs = await signInWaitMs(database, email);
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        return render({ form: `Too many failed attempts. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.` }, 429);
      }
      const member = await verifyMemberPassword(database, email, form.password ?? "");
      if (!member) {
        await recordSignInFailure(database, email);
        log.info("sign-in refused", { reason: "bad email or password" });
        return render({ form: "That email and password do not match an account." }, 422);
      }
      await clearSignInFailures(database, email);
      const session = await createSession(database, member.userId, member.workspaceId);
      // Back to an OAuth client's authorization request, if one sent the member here.
      const response = redirect(request, readReturnTo(request));
      response.headers.append("set-cookie", sessionCookie(config, session.token, session.expiresAt));
      response.headers.append("set-cookie", returnToCookie(config, null));
      return response;
    })
    .post("/sign-out", async ({ request }) => {
      const token = readSessionToken(config, request);
      if (token) await invalidateSession(database, token);
      const response = redirect(request, "/sign-in");
      response.headers.append("set-cookie", clearSessionCookie(config));
      return response;
    });
}
