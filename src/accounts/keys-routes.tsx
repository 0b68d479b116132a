import { Elysia, type AnyElysia } from "elysia";
import { z } from "zod";
import { parseBody } from "../web/body.ts";
import type { AppDeps } from "../deps.ts";
import { CreateKeyForm, GrantList, KeyList, KeysPage, NewKey as NewKeyView, RevokePage } from "../../views/keys.tsx";
import { flashMessage, withFlash } from "../web/flash.ts";
import { HttpError, htmlResponse, renderHtml, isHtmx, jsonResponse, readForm, redirect } from "../web/http.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "./api-keys.ts";
import { withDeps } from "../web/plugin.ts";
import { isAdmin, type Principal } from "./principal.ts";
import { listMemberGrants, revokeMemberGrant } from "../oauth-server/tokens.ts";
import { listProfileChoices } from "../profiles/choices.ts";

/** Admins see every key of the workspace; members their own. */
function visibleKeys(deps: AppDeps, principal: Principal) {
  return listApiKeys(deps.database, principal.workspaceId, isAdmin(principal) ? undefined : principal.userId);
}

/** A name of the wrong type is judged as an empty one, by createApiKey, with its message. `profile`: a profile's name. */
const NewKey = z.object({ name: z.string().catch(""), profile: z.string().optional().catch(undefined) }).catch({ name: "" });

export function keysRoutes(deps: AppDeps): AnyElysia {
  const mcpUrl = `${deps.config.baseUrl}/api/v1/mcp`;
  return new Elysia({ name: "keys" })
    .use(withDeps(deps))
    .get("/keys", async ({ request, principal }) => {
      const grants = await listMemberGrants(deps.database, principal.workspaceId, principal.userId);
      const profiles = await listProfileChoices(deps.database, principal.workspaceId);
      return htmlResponse(<KeysPage user={{ email: principal.email, role: principal.role }} keys={await visibleKeys(deps, principal)} grants={grants} mcpUrl={mcpUrl} flash={flashMessage(request)} profiles={profiles} />);
    }, { member: true })
    // Revoke asks first without JavaScript too: the list's Revoke buttons GET these pages.
    .get("/keys/:id/revoke", async ({ params, principal }) => {
      const key = (await visibleKeys(deps, principal)).find((k) => k.id === params.id && k.revokedAt === null);
      if (!key) throw new HttpError(404, "No such active key in this workspace.");
      return htmlResponse(<RevokePage user={principal} kind="key" id={key.id} name={key.name} />);
    }, { member: true })
    .get("/keys/grants/:id/revoke", async ({ params, principal }) => {
      const grant = (await listMemberGrants(deps.database, principal.workspaceId, principal.userId)).find((g) => g.id === params.id);
      if (!grant) throw new HttpError(404, "No such app among the ones you allowed.");
      return htmlResponse(<RevokePage user={principal} kind="grant" id={grant.id} name={grant.clientName} />);
    }, { member: true })
    .post("/keys", async ({ request, principal }) => {
      const form = await readForm(request);
      const result = await createApiKey(deps.database, { workspaceId: principal.workspaceId, userId: principal.userId, name: form.name ?? "", maxActive: deps.config.maxApiKeysPerUser, profileId: form.profile || null });
      if (!result.ok) {
        const profiles = await listProfileChoices(deps.database, principal.workspaceId);
        if (isHtmx(request)) return htmlResponse(<CreateKeyForm errors={result.errors} name={form.name} profiles={profiles} profileId={form.profile} />, 422);
        throw new HttpError(422, Object.values(result.errors).join(" "));
      }
      deps.log.info("api key created", { keyId: result.id, userId: principal.userId });
      const fresh = <NewKeyView name={form.name!.trim()} apiKey={result.key} mcpUrl={mcpUrl} />;
      if (isHtmx(request)) {
        // The new key replaces the form; the list below is refreshed out of band so it shows the key.
        const list = <KeyList keys={await visibleKeys(deps, principal)} />;
        return htmlResponse(renderHtml(fresh) + renderHtml(<div hx-swap-oob="outerHTML:#key-list">{list as "safe"}</div>), 200, { "cache-control": "no-store" });
      }
      const created = { name: form.name!.trim(), key: result.key };
      const grants = await listMemberGrants(deps.database, principal.workspaceId, principal.userId);
      const profiles = await listProfileChoices(deps.database, principal.workspaceId);
      return htmlResponse(<KeysPage user={principal} keys={await visibleKeys(deps, principal)} grants={grants} mcpUrl={mcpUrl} created={created} profiles={profiles} />, 200, { "cache-control": "no-store" });
    }, { member: true })
    .post("/keys/:id/revoke", async ({ request, params, principal }) => {
      const revoked = await revokeApiKey(deps.database, principal, params.id);
      if (!isHtmx(request)) return redirect(request, revoked ? withFlash("/keys", "key-revoked") : "/keys");
      return htmlResponse(<KeyList keys={await visibleKeys(deps, principal)} notice={revoked ? "Key revoked: clients using it stop working at once." : undefined} />);
    }, { member: true })
    .post("/keys/grants/:id/revoke", async ({ request, params, principal }) => {
      const revoked = await revokeMemberGrant(deps.database, principal, params.id);
      if (revoked) deps.log.info("oauth grant revoked", { grantId: params.id, userId: principal.userId });
      if (!isHtmx(request)) return redirect(request, revoked ? withFlash("/keys", "grant-revoked") : "/keys");
      const grants = await listMemberGrants(deps.database, principal.workspaceId, principal.userId);
      const profiles = await listProfileChoices(deps.database, principal.workspaceId);
      return htmlResponse(<GrantList grants={grants} profiles={profiles} canLimit={isAdmin(principal)} notice={revoked ? "App access revoked: it stops working at once." : undefined} />);
    }, { member: true })
    // JSON API, for scripts that hold a key already.
    .get("/api/v1/keys", async ({ principal }) => {
      return jsonResponse({ keys: await visibleKeys(deps, principal) });
    }, { apiKey: true })
    .post("/api/v1/keys", async ({ request, principal }) => {
      const { name, profile } = parseBody(NewKey, await request.json().catch(() => null));
      let profileId: string | null = null;
      if (profile !== undefined && profile !== "") {
        profileId = (await listProfileChoices(deps.database, principal.workspaceId)).find((p) => p.name === profile)?.id ?? null;
        if (profileId === null) return jsonResponse({ error: "invalid_request", message: "This workspace has no profile by that name; the Profiles page lists them.", fields: { profile: "No profile by that name." } }, 422);
      }
      const result = await createApiKey(deps.database, {
        workspaceId: principal.workspaceId,
        userId: principal.userId,
        name,
        maxActive: deps.config.maxApiKeysPerUser,
        profileId,
      });
      if (!result.ok) return jsonResponse({ error: result.errors.keys ? "too_many_keys" : "invalid_request", message: Object.values(result.errors).join(" "), fields: result.errors }, 422);
      return jsonResponse({ id: result.id, key: result.key, prefix: result.prefix }, 201, { "cache-control": "no-store" });
    }, { apiKey: true })
    .delete("/api/v1/keys/:id", async ({ params, principal }) => {
      if (!(await revokeApiKey(deps.database, principal, params.id))) throw new HttpError(404, "No such active key in this workspace.");
      return new Response(null, { status: 204 });
    }, { apiKey: true });
}
