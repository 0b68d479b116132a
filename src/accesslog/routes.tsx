import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import { isAdmin } from "../accounts/principal.ts";
import { listConnections } from "../connections/queries.ts";
import { NATIVE_PREFIX } from "../connections/names.ts";
import { HttpError, htmlResponse } from "../web/http.ts";
import { toViewer } from "../web/viewer.ts";
import { AccessLogDetailPage, AccessLogEntries, AccessLogPage } from "../../views/access-log.tsx";
import { getAccessLogEntry, listAccessLog, listWorkspaceUsers, userScope } from "./query.ts";
import { readLogFilter } from "./filter.ts";
import { exportResponse } from "./api.ts";
import { summarizeUsage, usageSeries } from "../usage/usage.ts";

export function accessLogRoutes(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "access-log-pages" })
    .use(withDeps(deps))
    .get("/access-log", async ({ request, principal }) => {
      const url = new URL(request.url);
      const filter = readLogFilter(url, principal);
      const before = url.searchParams.get("before")?.slice(0, 64) || null;
      const page = await listAccessLog(deps.database, principal.workspaceId, { ...filter.query, before: before ?? undefined });
      const connections = [...(await listConnections(deps, principal.workspaceId)).map((c) => c.name), NATIVE_PREFIX];
      const users = isAdmin(principal) ? await listWorkspaceUsers(deps.database, principal.workspaceId) : [];
      // The strip sums what this reader may see: the workspace for admins, their own calls for members.
      const scope = { userId: userScope(principal, undefined) };
      const usage = await summarizeUsage(deps.database, principal.workspaceId, { ...scope, now: deps.clock() });
      const series = await usageSeries(deps.database, principal.workspaceId, scope, "day", deps.clock());
      return htmlResponse(
        <AccessLogPage
          user={toViewer(principal)}
          entries={page.entries}
          next={page.next}
          before={before}
          filter={filter.values}
          errors={filter.errors}
          connections={connections}
          users={users}
          usage={usage}
          usageSeries={series}
        />,
        Object.keys(filter.errors).length > 0 ? 422 : 200,
      );
    }, { member: true })
    // Polled by the newest page: 204 (nothing to swap) until a newer matching call is recorded.
    .get("/access-log/entries", async ({ request, principal }) => {
      const url = new URL(request.url);
      const filter = readLogFilter(url, principal);
      const page = await listAccessLog(deps.database, principal.workspaceId, filter.query);
      if ((page.entries[0]?.id ?? "") === (url.searchParams.get("newest") ?? "")) return new Response(null, { status: 204, headers: { vary: "HX-Request" } });
      return htmlResponse(<AccessLogEntries entries={page.entries} next={page.next} before={null} filter={filter.values} />);
    }, { member: true })
    .get("/access-log/export.csv", ({ request, principal }) => exportResponse(deps, principal, readLogFilter(new URL(request.url), principal).query, "csv"), { member: true })
    .get("/access-log/export.jsonl", ({ request, principal }) => exportResponse(deps, principal, readLogFilter(new URL(request.url), principal).query, "jsonl"), { member: true })
    .get("/access-log/:id", async ({ request, params, principal }) => {
      const entry = await getAccessLogEntry(deps.database, principal.workspaceId, params.id, userScope(principal, undefined));
      if (!entry) throw new HttpError(404, "There is no such call in the access log you can see.");
      const back = new URL(request.url).searchParams.get("back") ?? "";
      return htmlResponse(<AccessLogDetailPage user={toViewer(principal)} entry={entry} back={back.startsWith("?") ? back : ""} />);
    }, { member: true });
}
