import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { requireApiKey, requireMember } from "../web/guard.ts";
import type { Principal } from "../accounts/principal.ts";
import { startAuthorization } from "../upstream/oauth/authorize.ts";
import { answerAuthorizationStart, checkedUrl, wantsJson } from "../upstream/oauth/routes.tsx";
import { HttpError, htmlResponse, isHtmx, jsonResponse, readForm, redirect } from "../web/http.ts";
import { MemberAccountSection } from "../../views/member-account.tsx";
import { connectMemberToken, disconnectMember, memberStatus } from "./member-service.ts";
import { getConnection } from "./queries.ts";

async function perMember(deps: AppDeps, principal: Principal, id: string) {
  const connection = await getConnection(deps, principal.workspaceId, id);
  if (!connection) throw new HttpError(404, "There is no such connection in this workspace.");
  if (connection.sharing !== "per_member") throw new HttpError(409, `${connection.name} is shared: a workspace admin manages its credential.`);
  return connection;
}


/** "Your account" on a per-member connection: any member, for themselves only (dashboard and API). */
export function memberAccountRoutes(deps: AppDeps): AnyElysia {
  const path = (id: string): string => `/connections/${encodeURIComponent(id)}`;
  const section = async (principal: Principal, id: string, errors: Record<string, string>, status = 200): Promise<Response> => {
    const connection = await perMember(deps, principal, id);
    return htmlResponse(<MemberAccountSection connection={connection} status={await memberStatus(deps, principal, id)} errors={errors} />, status);
  };
  return new Elysia({ name: "member-account" })
    .post("/connections/:id/my-account", async ({ request, params }) => {
      const principal = await requireMember(deps, request);
      const form = await readForm(request);
      const result = await connectMemberToken(deps, principal, params.id, { secret: form.secret ?? "" });
      if (!result.ok && "notFound" in result) throw new HttpError(404, "There is no such per-member connection in this workspace.");
      if (!result.ok) return section(principal, params.id, result.errors, 422);
      return isHtmx(request) ? section(principal, params.id, {}) : redirect(request, path(params.id));
    })
    .post("/connections/:id/my-account/remove", async ({ request, params }) => {
      const principal = await requireMember(deps, request);
      await perMember(deps, principal, params.id);
      await disconnectMember(deps, principal, params.id);
      return isHtmx(request) ? section(principal, params.id, {}) : redirect(request, path(params.id));
    })
    .post("/connections/:id/my-account/oauth/start", async ({ request, params }) => {
      const principal = await requireMember(deps, request);
      const connection = await perMember(deps, principal, params.id);
      const started = await startAuthorization(deps, connection, { userId: principal.userId, display: wantsJson(request) ? "popup" : "page", forMember: true });
      return answerAuthorizationStart(request, principal, connection, started);
    })
    .get("/api/v1/connections/:id/my-account", async ({ request, params }) => {
      const principal = await requireApiKey(deps, request);
      await perMember(deps, principal, params.id);
      const status = await memberStatus(deps, principal, params.id);
      return jsonResponse({ connected: status !== null, ...(status ?? {}) });
    })
    .put("/api/v1/connections/:id/my-account", async ({ request, params }) => {
      const principal = await requireApiKey(deps, request);
      const body = (await request.json().catch(() => null)) as { secret?: unknown } | null;
      const result = await connectMemberToken(deps, principal, params.id, { secret: typeof body?.secret === "string" ? body.secret : "" });
      if (!result.ok && "notFound" in result) throw new HttpError(404, "There is no such per-member connection in this workspace.");
      if (!result.ok) return jsonResponse({ error: "invalid_request", message: Object.values(result.errors).join(" "), fields: result.errors }, 422);
      return jsonResponse({ connected: true });
    })
    .delete("/api/v1/connections/:id/my-account", async ({ request, params }) => {
      const principal = await requireApiKey(deps, request);
      await perMember(deps, principal, params.id);
      return (await disconnectMember(deps, principal, params.id)) ? new Response(null, { status: 204 }) : jsonResponse({ error: "not_connected" }, 404);
    })
    .post("/api/v1/connections/:id/my-account/oauth/start", async ({ request, params }) => {
      const principal = await requireApiKey(deps, request);
      const connection = await perMember(deps, principal, params.id);
      const started = await startAuthorization(deps, connection, { userId: principal.userId, display: "page", forMember: true });
      if (!started.ok) return jsonResponse({ error: "authorization_failed", message: started.reason }, 502);
      return jsonResponse({ authorizationUrl: checkedUrl(started.authorizationUrl), expiresAt: started.expiresAt });
    });
}
