import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { requireAdmin, requireMember } from "../web/guard.ts";
import type { Principal } from "../accounts/principal.ts";
import { HttpError, htmlResponse, isHtmx, readForm, redirect } from "../web/http.ts";
import { toViewer } from "../web/viewer.ts";
import { ConnectionOverview, ConnectionPage, EditForm, ReauthForm, RemovePage, ToolsSection, type ConnectionPageProps, type SyncOutcome } from "../../views/connection.tsx";
import { readAuthForm, readTimeoutForm } from "./forms.ts";
import { loadOwnConnection } from "./pages.tsx";
import { memberAccountRoutes } from "./member-routes.tsx";
import { memberStatus } from "./member-service.ts";
import { listStatusEvents } from "./status.ts";
import { deleteConnection } from "./remove.ts";
import { listConnectionTools, setToolEnabled } from "./tools.ts";
import { retryConnectionNow, syncConnection } from "./resync.ts";
import { updateConnection, type UpdateConnectionInput } from "./update.ts";

/** The whole page, for plain (no-JS) posts that show a result or field errors in place. */
async function fullPage(deps: AppDeps, principal: Principal, id: string, extra: Partial<ConnectionPageProps>, status = 200): Promise<Response> {
  const connection = await loadOwnConnection(deps, principal, id);
  const tools = await listConnectionTools(deps, principal.workspaceId, id);
  const account = connection.sharing === "per_member" ? { status: await memberStatus(deps, principal, id) } : undefined;
  const events = await listStatusEvents(deps.database, principal.workspaceId, id, 10);
  return htmlResponse(<ConnectionPage user={toViewer(principal)} connection={connection} tools={tools} account={account} events={events} {...extra} />, status);
}

/** One connection: its tools and their toggles, re-sync / retry, re-authorize, settings, remove. */
export function connectionDetailPages(deps: AppDeps): AnyElysia {
  const path = (id: string): string => `/connections/${encodeURIComponent(id)}`;
  return new Elysia({ name: "connection-detail-pages" })
    .use(memberAccountRoutes(deps))
    .get("/connections/:id", async ({ request, params }) => {
      const principal = await requireMember(deps, request);
      return fullPage(deps, principal, params.id, {});
    })
    .post("/connections/:id/tools", async ({ request, params }) => {
      const principal = await requireAdmin(deps, request);
      const connection = await loadOwnConnection(deps, principal, params.id);
      const tool = new URL(request.url).searchParams.get("tool") ?? "";
      const form = await readForm(request);
      if (!(await setToolEnabled(deps, principal.workspaceId, connection.id, tool, form.enabled === "true"))) {
        throw new HttpError(404, "There is no such tool on this connection.");
      }
      if (!isHtmx(request)) return redirect(request, path(connection.id));
      const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
      return htmlResponse(<ToolsSection connection={connection} tools={tools} admin />);
    })
    .post("/connections/:id/sync", async ({ request, params }) => {
      const principal = await requireAdmin(deps, request);
      const current = await loadOwnConnection(deps, principal, params.id);
      // The same button reads "Retry now" while a connection is failing: record it as a person's retry.
      const result = current.status === "connected" ? await syncConnection(deps, principal.workspaceId, params.id) : await retryConnectionNow(deps, principal.workspaceId, params.id);
      if (!result.ok && "notFound" in result) throw new HttpError(404, "There is no such connection in this workspace.");
      const sync: SyncOutcome = result.ok ? { report: result.report } : { error: result.error };
      if (!isHtmx(request)) return fullPage(deps, principal, params.id, { sync });
      const connection = await loadOwnConnection(deps, principal, params.id);
      const tools = await listConnectionTools(deps, principal.workspaceId, params.id);
      return htmlResponse(<ConnectionOverview connection={connection} tools={tools} admin sync={sync} />);
    })
    .post("/connections/:id/reauth", async ({ request, params }) => {
      const principal = await requireAdmin(deps, request);
      const connection = await loadOwnConnection(deps, principal, params.id);
      const auth = readAuthForm(await readForm(request));
      const result =
        auth.kind === "invalid"
          ? { ok: false as const, errors: { auth: auth.message } }
          : await updateConnection(deps, principal, connection.id, { auth });
      if (!result.ok && "notFound" in result) throw new HttpError(404, "There is no such connection in this workspace.");
      if (!result.ok) {
        if (isHtmx(request)) return htmlResponse(<ReauthForm connection={connection} errors={result.errors} />, 422);
        return fullPage(deps, principal, connection.id, { reauthErrors: result.errors }, 422);
      }
      deps.log.info("connection re-authorized", { connectionId: connection.id, workspaceId: principal.workspaceId });
      return redirect(request, path(connection.id));
    })
    .post("/connections/:id/edit", async ({ request, params }) => {
      const principal = await requireAdmin(deps, request);
      const connection = await loadOwnConnection(deps, principal, params.id);
      const form = await readForm(request);
      const values = { name: (form.name ?? "").trim(), url: (form.url ?? "").trim(), callTimeoutMs: form.callTimeoutMs ?? "" };
      // Only what changed: an unchanged URL is not probed again.
      const input: UpdateConnectionInput = { callTimeoutMs: readTimeoutForm(values.callTimeoutMs) };
      if (values.name !== connection.name) input.name = values.name;
      if (values.url !== connection.url) input.url = values.url;
      const result = await updateConnection(deps, principal, connection.id, input);
      if (!result.ok && "notFound" in result) throw new HttpError(404, "There is no such connection in this workspace.");
      if (!result.ok) {
        if (isHtmx(request)) return htmlResponse(<EditForm connection={connection} values={values} errors={result.errors} />, 422);
        return fullPage(deps, principal, connection.id, { edit: { values, errors: result.errors } }, 422);
      }
      return redirect(request, path(connection.id));
    })
    .get("/connections/:id/remove", async ({ request, params }) => {
      const principal = await requireAdmin(deps, request);
      const connection = await loadOwnConnection(deps, principal, params.id);
      return htmlResponse(<RemovePage user={toViewer(principal)} connection={connection} />);
    })
    .post("/connections/:id/remove", async ({ request, params }) => {
      const principal = await requireAdmin(deps, request);
      if (!(await deleteConnection(deps, principal, params.id))) throw new HttpError(404, "There is no such connection in this workspace.");
      return redirect(request, "/");
    });
}
