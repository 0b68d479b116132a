import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import { isAdmin, type Principal } from "../accounts/principal.ts";
import { listConnections } from "../connections/queries.ts";
import { NATIVE_PREFIX } from "../connections/names.ts";
import { htmlResponse } from "../web/http.ts";
import { toViewer } from "../web/viewer.ts";
import { AccessLogEntries, AccessLogPage, type LogFilterValues } from "../../views/access-log.tsx";
import { listAccessLog, listWorkspaceUsers, OUTCOMES, userScope, type AccessLogFilter } from "./query.ts";
import type { Outcome } from "./recorder.ts";

function readFilter(url: URL): LogFilterValues & { before: string | null } {
  const get = (name: string): string => (url.searchParams.get(name) ?? "").trim().slice(0, 256);
  const outcome = get("outcome");
  return {
    connection: get("connection"),
    tool: get("tool"),
    outcome: OUTCOMES.includes(outcome as Outcome) ? outcome : "",
    user: get("user"),
    before: get("before") || null,
  };
}

/** Admins see every call in the workspace; members see their own. */
function toQuery(principal: Principal, f: LogFilterValues & { before: string | null }): AccessLogFilter {
  return {
    connection: f.connection || undefined,
    tool: f.tool || undefined,
    outcome: (f.outcome as Outcome) || undefined,
    userId: userScope(principal, f.user),
    before: f.before ?? undefined,
  };
}

export function accessLogRoutes(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "access-log-pages" })
    .use(withDeps(deps))
    .get("/access-log", async ({ request, principal }) => {
      const filter = readFilter(new URL(request.url));
      const page = await listAccessLog(deps.database, principal.workspaceId, toQuery(principal, filter));
      const connections = [...(await listConnections(deps, principal.workspaceId)).map((c) => c.name), NATIVE_PREFIX];
      const users = isAdmin(principal) ? await listWorkspaceUsers(deps.database, principal.workspaceId) : [];
      return htmlResponse(
        <AccessLogPage user={toViewer(principal)} entries={page.entries} next={page.next} before={filter.before} filter={filter} connections={connections} users={users} />,
      );
    }, { member: true })
    // Polled by the newest page: 204 (nothing to swap) until a newer matching call is recorded.
    .get("/access-log/entries", async ({ request, principal }) => {
      const url = new URL(request.url);
      const filter = { ...readFilter(url), before: null };
      const page = await listAccessLog(deps.database, principal.workspaceId, toQuery(principal, filter));
      if ((page.entries[0]?.id ?? "") === (url.searchParams.get("newest") ?? "")) return new Response(null, { status: 204, headers: { vary: "HX-Request" } });
      return htmlResponse(<AccessLogEntries entries={page.entries} next={page.next} before={null} filter={filter} />);
    }, { member: true });
}
