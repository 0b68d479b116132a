import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import { isAdmin, type Principal } from "../accounts/principal.ts";
import { HttpError, htmlResponse, isHtmx, readForm, redirect } from "../web/http.ts";
import type { ConnectionMeta } from "./types.ts";
import { toViewer } from "../web/viewer.ts";
import { ConnectionOverview, ConnectionPage, EditForm, LiveStatus, ReauthForm, RemovePage, StatusHistory, type ConnectionPageProps, type SyncOutcome } from "../../views/connection.tsx";
import { ConnectionCards } from "../../views/connections.tsx";
import { listConnections } from "./queries.ts";
import { ToolResults, ToolsSection } from "../../views/tool-list.tsx";
import { flashMessage, withFlash } from "../web/flash.ts";
import { filterQuery, matchesTool, readToolFilter, type ToolFilter } from "./tool-filter.ts";
import { readAuthForm, readTimeoutForm } from "./forms.ts";
import { loadOwnConnection } from "./pages.tsx";
import { memberStatus } from "./member-service.ts";
import { listStatusEvents } from "./status.ts";
import { deleteConnection } from "./remove.ts";
import { listChangedToolNames, listConnectionTools, setToolEnabled, setToolsEnabled } from "./tools.ts";
import { isItemKind, listConnectionItems, setItemEnabled } from "./items.ts";
import { ItemsSection } from "../../views/connection-items.tsx";
import { retryConnectionNow, syncConnection } from "./resync.ts";
import { updateConnection, type UpdateConnectionInput } from "./update.ts";
import { connectionUsagePanel, readUsageWindow } from "../usage/panels.tsx";
import type { UsageWindow } from "../usage/usage.ts";
import { listHeldToolNames, loadReview } from "./review-model.ts";

/** The whole page, for plain (no-JS) posts that show a result or field errors in place. */
async function fullPage(deps: AppDeps, principal: Principal, connection: ConnectionMeta, extra: Partial<Omit<ConnectionPageProps, "now">>, status = 200, window: UsageWindow = "day"): Promise<Response> {
  const { id } = connection;
  const usage = await connectionUsagePanel(deps.database, principal, connection, window, deps.clock());
  const tools = await listConnectionTools(deps, principal.workspaceId, id);
  const items = await listConnectionItems(deps, principal.workspaceId, connection.name);
  const account = connection.sharing === "per_member" ? { status: await memberStatus(deps, principal, id) } : undefined;
  const events = await listStatusEvents(deps.database, principal.workspaceId, id, 10);
  const changed = await listChangedToolNames(deps, id);
  const review = isAdmin(principal) ? await loadReview(deps, principal.workspaceId, connection) : undefined;
  return htmlResponse(<ConnectionPage user={toViewer(principal)} connection={connection} tools={tools} items={items} account={account} events={events} usage={usage} changed={changed} review={review} now={Date.now()} {...extra} />, status);
}

const NOT_FOUND = "There is no such connection in this workspace.";

/** A posted form as the filter reader wants it. */
function formFilter(form: Record<string, string>): ToolFilter {
  return readToolFilter({ get: (name) => form[name] ?? null });
}

function queryFilter(request: Request): ToolFilter {
  return readToolFilter(new URL(request.url).searchParams);
}

const BULK_ACTIONS = ["all-on", "all-off", "shown-on", "shown-off"] as const;
type BulkAction = (typeof BULK_ACTIONS)[number];

/** One connection: its tools and their toggles, re-sync / retry, re-authorize, settings, remove. */
export function connectionDetailPages(deps: AppDeps): AnyElysia {
  const path = (id: string): string => `/connections/${encodeURIComponent(id)}`;
  return new Elysia({ name: "connection-detail-pages" })
    .use(withDeps(deps))
    .get("/connections/:id", ({ request, principal, connection }) => fullPage(deps, principal, connection, { filter: queryFilter(request), flash: flashMessage(request) }, 200, readUsageWindow(new URL(request.url))), { member: true, connection: true })
    // What the page polls (htmx); without htmx, the page.
    .get(
      "/connections/:id/status",
      ({ request, connection }) => (isHtmx(request) ? htmlResponse(<LiveStatus connection={connection} now={Date.now()} />) : redirect(request, path(connection.id))),
      { member: true, connection: true },
    )
    .get(
      "/connections/:id/history",
      async ({ request, principal, connection }) => {
        if (!isHtmx(request)) return redirect(request, path(connection.id));
        const events = await listStatusEvents(deps.database, principal.workspaceId, connection.id, 10);
        return htmlResponse(<StatusHistory connection={connection} events={events} now={Date.now()} />);
      },
      { member: true, connection: true },
    )
    // The tool list's type-ahead and filter (htmx swaps #tool-results); without htmx, the page itself.
    .get(
      "/connections/:id/tools",
      async ({ request, principal, connection }) => {
        const filter = queryFilter(request);
        if (!isHtmx(request)) return redirect(request, `${path(connection.id)}${filterQuery(filter)}#tools`);
        const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
        const held = isAdmin(principal) ? await listHeldToolNames(deps.database, principal.workspaceId, connection.id) : undefined;
        return htmlResponse(<ToolResults connection={connection} tools={tools} admin={isAdmin(principal)} filter={filter} changed={await listChangedToolNames(deps, connection.id)} held={held} />);
      },
      { member: true, connection: true },
    )
    .post(
      "/connections/:id/tools/bulk",
      async ({ request, principal, connection }) => {
        const form = await readForm(request);
        const action = BULK_ACTIONS.find((a) => a === form.action);
        if (!action) throw new HttpError(422, "Choose one of the bulk actions.");
        const filter = formFilter(form);
        const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
        const on = action.endsWith("-on");
        // "shown" means every tool the filter matches, on every page, not only the page in view.
        const changedBefore = await listChangedToolNames(deps, connection.id);
        const targets = tools.filter((tool) => tool.enabled !== on && (action.startsWith("all") || matchesTool(tool, tool.enabled, filter, changedBefore.has(tool.name))));
        const changed = await setToolsEnabled(deps, principal.workspaceId, connection.id, targets.map((tool) => tool.name), on);
        const notice = bulkNotice(action, changed);
        if (!isHtmx(request)) return redirect(request, `${path(connection.id)}${filterQuery(filter)}#tools`);
        const fresh = await loadOwnConnection(deps, principal, connection.id);
        const tools2 = await listConnectionTools(deps, principal.workspaceId, connection.id);
        return htmlResponse(<ToolsSection connection={fresh} tools={tools2} admin filter={filter} notice={notice} changed={await listChangedToolNames(deps, connection.id)} held={await listHeldToolNames(deps.database, principal.workspaceId, connection.id)} />);
      },
      { admin: true, connection: true },
    )
    .post(
      "/connections/:id/tools",
      async ({ request, principal, connection }) => {
        const tool = new URL(request.url).searchParams.get("tool") ?? "";
        const form = await readForm(request);
        if (!(await setToolEnabled(deps, principal.workspaceId, connection.id, tool, form.enabled === "true"))) {
          throw new HttpError(404, "There is no such tool on this connection.");
        }
        const filter = formFilter(form);
        if (!isHtmx(request)) return redirect(request, `${path(connection.id)}${filterQuery(filter)}#tools`);
        const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
        return htmlResponse(<ToolsSection connection={connection} tools={tools} admin filter={filter} changed={await listChangedToolNames(deps, connection.id)} held={await listHeldToolNames(deps.database, principal.workspaceId, connection.id)} />);
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
        // Retry on a card of the connections page: the cards come back, with this one's new status.
        if (new URL(request.url).searchParams.get("from") === "list") {
          return htmlResponse(<ConnectionCards connections={await listConnections(deps, principal.workspaceId)} admin now={Date.now()} />);
        }
        const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
        // A re-sync may have held changes or found new tools: the review section comes back with them.
        const review = await loadReview(deps, principal.workspaceId, connection);
        return htmlResponse(<ConnectionOverview connection={connection} tools={tools} admin sync={sync} now={Date.now()} changed={await listChangedToolNames(deps, connection.id)} review={review} />);
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
        return redirect(request, withFlash(path(connection.id), "reauthorized"));
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
        return redirect(request, withFlash(path(connection.id), "saved"));
      },
      { admin: true, connection: true },
    )
    .get("/connections/:id/remove", ({ principal, connection }) => htmlResponse(<RemovePage user={toViewer(principal)} connection={connection} />), { admin: true, connection: true })
    .post(
      "/connections/:id/remove",
      async ({ request, params, principal }) => {
        if (!(await deleteConnection(deps, principal, params.id))) throw new HttpError(404, NOT_FOUND);
        return redirect(request, withFlash("/", "removed"));
      },
      { admin: true },
    );
}

function bulkNotice(action: BulkAction, changed: number): string {
  const turned = action.endsWith("-on") ? "on" : "off";
  if (changed === 0) return `Nothing to change: those tools were ${turned} already.`;
  return `Turned ${changed} ${changed === 1 ? "tool" : "tools"} ${turned}.`;
}
