import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import type { Principal } from "../accounts/principal.ts";
import { HttpError, htmlResponse, isHtmx, readForm, redirect } from "../web/http.ts";
import type { ConnectionMeta } from "./types.ts";
import { toViewer } from "../web/viewer.ts";
import { ConnectionOverview, ConnectionPage, EditForm, ReauthForm, RemovePage, ToolsSection, type ConnectionPageProps, type SyncOutcome } from "../../views/connection.tsx";
import { readAuthForm, readTimeoutForm } from "./forms.ts";
import { loadOwnConnection } from "./pages.tsx";
import { memberStatus } from "./member-service.ts";
import { listStatusEvents } from "./status.ts";
import { deleteConnection } from "./remove.ts";
import { listConnectionTools, setToolEnabled } from "./tools.ts";
import { isItemKind, listConnectionItems, setItemEnabled } from "./items.ts";
import { ItemsSection } from "../../views/connection-items.tsx";
import { retryConnectionNow, syncConnection } from "./resync.ts";
import { updateConnection, type UpdateConnectionInput } from "./update.ts";
import { connectionUsagePanel, readUsageWindow } from "../usage/panels.tsx";
import type { UsageWindow } from "../usage/usage.ts";

/** The whole page, for plain (no-JS) posts that show a result or field errors in place. */
async function fullPage(deps: AppDeps, principal: Principal, connection: ConnectionMeta, extra: Partial<ConnectionPageProps>, status = 200, window: UsageWindow = "day"): Promise<Response> {
  const { id } = connection;
  const usage = await connectionUsagePanel(deps.database, principal, connection, window, deps.clock());
  const tools = await listConnectionTools(deps, principal.workspaceId, id);
  const items = await listConnectionItems(deps, principal.workspaceId, connection.name);
  const account = connection.sharing === "per_member" ? { status: await memberStatus(deps, principal, id) } : undefined;
  const events = await listStatusEvents(deps.database, principal.workspaceId, id, 10);
  return htmlResponse(<ConnectionPage user={toViewer(principal)} connection={connection} tools={tools} items={items} account={account} events={events} usage={usage} {...extra} />, status);
}

const NOT_FOUND = "There is no such connection in this workspace.";

/** One connection: its tools and their toggles, re-sync / retry, re-authorize, settings, remove. */
export function connectionDetailPages(deps: AppDeps): AnyElysia {
  const path = (id: string): string => `/connections/${encodeURIComponent(id)}`;
  return new Elysia({ name: "connection-detail-pages" })
    .use(withDeps(deps))
    .get("/connections/:id", ({ request, principal, connection }) => fullPage(deps, principal, connection, {}, 200, readUsageWindow(new URL(request.url))), { member: true, connection: true })
    .post(
      "/connections/:id/tools",
      async ({ request, principal, connection }) => {
        const tool = new URL(request.url).searchParams.get("tool") ?? "";
        const form = await readForm(request);
        if (!(await setToolEnabled(deps, principal.workspaceId, connection.id, tool, form.enabled === "true"))) {
          throw new HttpError(404, "There is no such tool on this connection.");
        }
        if (!isHtmx(request)) return redirect(request, path(connection.id));
        const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
        return htmlResponse(<ToolsSection connection={connection} tools={tools} admin />);
      },
      { admin: true, connection: true },
    )
    .post(
      "/connections/:id/items",
      async ({ request, principal, connection }) => {
        const query = new URL(request.url).searchParams;
        const kind = query.get("kind") ?? "";
        const form = await readForm(request);
        const found = isItemKind(kind) && (await setItemEnabled(deps, principal.workspaceId, connection.id, { kind, name: query.get("name") ?? "" }, form.enabled === "true"));
        if (!found) throw new HttpError(404, "There is no such prompt or resource on this connection.");
        if (!isHtmx(request)) return redirect(request, path(connection.id));
        const items = await listConnectionItems(deps, principal.workspaceId, connection.name);
        return htmlResponse(<ItemsSection connection={connection} items={items} admin />);
      },
      { admin: true, connection: true },
    )
    .post(
      "/connections/:id/sync",
      async ({ request, principal, connection: current }) => {
        // The same button reads "Retry now" while a connection is failing: record it as a person's retry.
        const result = current.status === "connected" ? await syncConnection(deps, principal.workspaceId, current.id) : await retryConnectionNow(deps, principal.workspaceId, current.id);
        if (!result.ok && "notFound" in result) throw new HttpError(404, NOT_FOUND);
        const sync: SyncOutcome = result.ok ? { report: result.report } : { error: result.error };
        const connection = await loadOwnConnection(deps, principal, current.id);
        if (!isHtmx(request)) return fullPage(deps, principal, connection, { sync });
        const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
        return htmlResponse(<ConnectionOverview connection={connection} tools={tools} admin sync={sync} />);
      },
      { admin: true, connection: true },
    )
    .post(
      "/connections/:id/reauth",
      async ({ request, principal, connection }) => {
        const auth = readAuthForm(await readForm(request));
        const result =
          auth.kind === "invalid"
            ? { ok: false as const, errors: { auth: auth.message } }
            : await updateConnection(deps, principal, connection.id, { auth });
        if (!result.ok && "notFound" in result) throw new HttpError(404, NOT_FOUND);
        if (!result.ok) {
          if (isHtmx(request)) return htmlResponse(<ReauthForm connection={connection} errors={result.errors} />, 422);
          return fullPage(deps, principal, await loadOwnConnection(deps, principal, connection.id), { reauthErrors: result.errors }, 422);
        }
        deps.log.info("connection re-authorized", { connectionId: connection.id, workspaceId: principal.workspaceId });
        return redirect(request, path(connection.id));
      },
      { admin: true, connection: true },
    )
    .post(
      "/connections/:id/edit",
      async ({ request, principal, connection }) => {
        const form = await readForm(request);
        const values = { name: (form.name ?? "").trim(), url: (form.url ?? "").trim(), callTimeoutMs: form.callTimeoutMs ?? "" };
        // Only what changed: an unchanged URL is not probed again.
        const input: UpdateConnectionInput = { callTimeoutMs: readTimeoutForm(values.callTimeoutMs) };
        if (values.name !== connection.name) input.name = values.name;
        if (values.url !== connection.url) input.url = values.url;
        const result = await updateConnection(deps, principal, connection.id, input);
        if (!result.ok && "notFound" in result) throw new HttpError(404, NOT_FOUND);
        if (!result.ok) {
          if (isHtmx(request)) return htmlResponse(<EditForm connection={connection} values={values} errors={result.errors} />, 422);
          return fullPage(deps, principal, await loadOwnConnection(deps, principal, connection.id), { edit: { values, errors: result.errors } }, 422);
        }
        return redirect(request, path(connection.id));
      },
      { admin: true, connection: true },
    )
    .get("/connections/:id/remove", ({ principal, connection }) => htmlResponse(<RemovePage user={toViewer(principal)} connection={connection} />), { admin: true, connection: true })
    .post(
      "/connections/:id/remove",
      async ({ request, params, principal }) => {
        if (!(await deleteConnection(deps, principal, params.id))) throw new HttpError(404, NOT_FOUND);
        return redirect(request, "/");
      },
      { admin: true },
    );
}
