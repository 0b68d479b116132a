import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { MemberList, ScimSettings, SettingsPage, SsoSettings, type ScimSettingsProps, type SsoSettingsProps } from "../../views/settings.tsx";
import { continueTo } from "../web/continue-to.tsx";
import { HttpError, htmlResponse, isHtmx, readForm, redirect } from "../web/http.ts";
import { withDeps } from "../web/plugin.ts";
import { changeMemberRole, listMembers } from "./members.ts";
import type { Principal } from "./principal.ts";
import { createScimToken, listScimTokens, revokeScimToken } from "../scim/tokens.ts";
import { beginAuthorization, ssoCallbackUrl, ssoStateCookie } from "../sso/authorize.ts";
import { getSsoProvider, removeSsoProvider, saveSsoProvider } from "../sso/providers.ts";

/** Workspace settings (admins): the identity provider, SCIM tokens, members and their roles. */
export function settingsRoutes(deps: AppDeps): AnyElysia {
  const { database, config, log } = deps;

  const ssoProps = async (principal: Principal, extra: Partial<SsoSettingsProps> = {}): Promise<SsoSettingsProps> => ({
    provider: await getSsoProvider(database, principal.workspaceId),
    redirectUri: ssoCallbackUrl(config),
    ...extra,
  });
  const scimProps = async (principal: Principal, extra: Partial<ScimSettingsProps> = {}): Promise<ScimSettingsProps> => ({
    scimUrl: `${config.baseUrl}/scim/v2`,
    tokens: await listScimTokens(database, principal.workspaceId),
    ...extra,
  });
  const page = async (principal: Principal, parts: { sso?: Partial<SsoSettingsProps>; scim?: Partial<ScimSettingsProps>; membersError?: string } = {}) => (
    <SettingsPage
      user={principal}
      sso={await ssoProps(principal, parts.sso)}
      scim={await scimProps(principal, parts.scim)}
      members={{ members: await listMembers(database, principal.workspaceId), error: parts.membersError }}
    />
  );

  return new Elysia({ name: "settings" })
    .use(withDeps(deps))
    .get("/settings", async ({ principal }) => {
      return htmlResponse(await page(principal));
    }, { admin: true })
    .post("/settings/sso", async ({ request, principal }) => {
      const form = await readForm(request);
      const result = await saveSsoProvider(deps, principal.workspaceId, form);
      if (!result.ok) {
        if (result.detail) log.info("sso provider not saved: issuer unusable", { workspaceId: principal.workspaceId, reason: result.detail });
        // Everything the admin typed comes back except the secret.
        const sso = { form: { ...form, clientSecret: undefined }, errors: result.errors };
        return htmlResponse(isHtmx(request) ? <SsoSettings {...await ssoProps(principal, sso)} /> : await page(principal, { sso }), 422);
      }
      log.info("sso provider saved", { workspaceId: principal.workspaceId, status: result.provider.status, unlinkedIdentities: result.unlinked });
      if (!isHtmx(request)) return redirect(request, "/settings");
      const notice = result.provider.status === "pending" ? "Saved. Now run a test sign-in to switch single sign-on on." : "Saved.";
      return htmlResponse(<SsoSettings {...await ssoProps(principal, { notice })} />);
    }, { admin: true })
    .post("/settings/sso/test", async ({ request, principal }) => {
      const provider = await getSsoProvider(database, principal.workspaceId);
      if (!provider) throw new HttpError(404, "Save an identity provider first.");
      const begun = await beginAuthorization(deps, provider, "test", principal.userId);
      if (!begun.ok) throw new HttpError(502, `The identity provider could not be used: ${begun.reason}`);
      return continueTo(request, begun.url, { "set-cookie": ssoStateCookie(config, begun.state) });
    }, { admin: true })
    .post("/settings/sso/remove", async ({ request, principal }) => {
      if (await removeSsoProvider(database, principal.workspaceId)) log.info("sso provider removed", { workspaceId: principal.workspaceId });
      if (!isHtmx(request)) return redirect(request, "/settings");
      return htmlResponse(<SsoSettings {...await ssoProps(principal, { notice: "The identity provider was removed." })} />);
    }, { admin: true })
    .post("/settings/scim/tokens", async ({ request, principal }) => {
      const form = await readForm(request);
      const result = await createScimToken(database, principal.workspaceId, form.name ?? "");
      if (!result.ok) {
        const scim = { errors: result.errors, name: form.name };
        return htmlResponse(isHtmx(request) ? <ScimSettings {...await scimProps(principal, scim)} /> : await page(principal, { scim }), 422);
      }
      log.info("scim token created", { workspaceId: principal.workspaceId, tokenId: result.id });
      const scim = { created: { name: form.name!.trim(), token: result.token } };
      const body = isHtmx(request) ? <ScimSettings {...await scimProps(principal, scim)} /> : await page(principal, { scim });
      return htmlResponse(body, 200, { "cache-control": "no-store" });
    }, { admin: true })
    .post("/settings/scim/tokens/:id/revoke", async ({ request, params, principal }) => {
      if (await revokeScimToken(database, principal.workspaceId, params.id)) log.info("scim token revoked", { tokenId: params.id });
      if (!isHtmx(request)) return redirect(request, "/settings");
      return htmlResponse(<ScimSettings {...await scimProps(principal)} />);
    }, { admin: true })
    .post("/settings/members/:id/role", async ({ request, params, principal }) => {
      const form = await readForm(request);
      const result = await changeMemberRole(database, principal, params.id, form.role ?? "");
      const error = result.ok ? undefined : result.error;
      if (result.ok) log.info("member role changed", { userId: params.id, role: form.role });
      if (!isHtmx(request)) return result.ok ? redirect(request, "/settings") : htmlResponse(await page(principal, { membersError: error }), 422);
      return htmlResponse(<MemberList members={await listMembers(database, principal.workspaceId)} error={error} />, result.ok ? 200 : 422);
    }, { admin: true });
}
