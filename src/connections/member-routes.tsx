import { Elysia, type AnyElysia } from "elysia";
import { z } from "zod";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import type { Principal } from "../accounts/principal.ts";
import { startAuthorization } from "../upstream/oauth/authorize.ts";
import { answerAuthorizationStart, checkedUrl, wantsJson } from "../upstream/oauth/routes.tsx";
import { HttpError, htmlResponse, invalidRequest, isHtmx, jsonResponse, readForm, redirect } from "../web/http.ts";
import { parseBody } from "../web/body.ts";
import type { ConnectionMeta } from "./types.ts";
import { loadOwnConnection } from "./pages.tsx";
import { MemberAccountSection } from "../../views/member-account.tsx";
import { connectMemberToken, disconnectMember, memberStatus } from "./member-service.ts";

/** A secret of the wrong type is judged as an empty one, by the service, with its message. */
const MemberSecret = z.object({ secret: z.string().catch("") }).catch({ secret: "" });

/** "Your account" is for per-member connections; a shared one's credential is an admin's. */
function perMember(connection: ConnectionMeta): ConnectionMeta {
  if (connection.sharing !== "per_member") throw new HttpError(409, `${connection.name} is shared: a workspace admin manages its credential.`);
  return connection;
}

/** "Your account" on a per-member connection: any member, for themselves only (dashboard and API). */
export function memberAccountRoutes(deps: AppDeps): AnyElysia {
  const path = (id: string): string => `/connections/${encodeURIComponent(id)}`;
  const section = async (principal: Principal, id: string, errors: Record<string, string>, status = 200): Promise<Response> => {
    const connection = perMember(await loadOwnConnection(deps, principal, id));
    return htmlResponse(<MemberAccountSection connection={connection} status={await memberStatus(deps, principal, id)} errors={errors} />, status);
  };
  return new Elysia({ name: "member-account" })
    .use(withDeps(deps))
    .post("/connections/:id/my-account", async ({ request, params, principal }) => {
      const form = await readForm(request);
      const result = await connectMemberToken(deps, principal, params.id, { secret: form.secret ?? "" });
      if (!result.ok && "notFound" in result) throw new HttpError(404, "There is no such per-member connection in this workspace.");
      if (!result.ok) return section(principal, params.id, result.errors, 422);
      return isHtmx(request) ? section(principal, params.id, {}) : redirect(request, path(params.id));
    }, { member: true })
    .post("/connections/:id/my-account/remove", async ({ request, params, principal, connection }) => {
      perMember(connection);
      await disconnectMember(deps, principal, params.id);
      return isHtmx(request) ? section(principal, params.id, {}) : redirect(request, path(params.id));
    }, { member: true, connection: true })
    .post("/connections/:id/my-account/oauth/start", async ({ request, principal, connection }) => {
      perMember(connection);
      const started = await startAuthorization(deps, connection, { userId: principal.userId, display: wantsJson(request) ? "popup" : "page", forMember: true });
      return answerAuthorizationStart(request, principal, connection, started);
    }, { member: true, connection: true })
    .get("/api/v1/connections/:id/my-account", async ({ principal, connection }) => {
      const status = await memberStatus(deps, principal, perMember(connection).id);
      return jsonResponse({ connected: status !== null, ...(status ?? {}) });
    }, { apiKey: true, connection: true })
    .put("/api/v1/connections/:id/my-account", async ({ request, params, principal }) => {
      const body = parseBody(MemberSecret, await request.json().catch(() => null));
      const result = await connectMemberToken(deps, principal, params.id, body);
      if (!result.ok && "notFound" in result) throw new HttpError(404, "There is no such per-member connection in this workspace.");
      if (!result.ok) return invalidRequest(result.errors);
      return jsonResponse({ connected: true });
    }, { apiKey: true })
    .delete("/api/v1/connections/:id/my-account", async ({ principal, connection }) => {
      return (await disconnectMember(deps, principal, perMember(connection).id)) ? new Response(null, { status: 204 }) : jsonResponse({ error: "not_connected" }, 404);
    }, { apiKey: true, connection: true })
    .post("/api/v1/connections/:id/my-account/oauth/start", async ({ principal, connection }) => {
      perMember(connection);
      const started = await startAuthorization(deps, connection, { userId: principal.userId, display: "page", forMember: true });
      if (!started.ok) return jsonResponse({ error: "authorization_failed", message: started.reason }, 502);
      return jsonResponse({ authorizationUrl: checkedUrl(started.authorizationUrl), expiresAt: started.expiresAt });
    }, { apiKey: true, connection: true });
}
