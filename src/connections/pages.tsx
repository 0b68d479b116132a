import { Elysia, type AnyElysia } from "elysia";
import { sha256 } from "@oslojs/crypto/sha2";
import { encodeHexLowerCase } from "@oslojs/encoding";
import type { AppDeps } from "../deps.ts";
import { isSetupDone } from "../accounts/accounts.ts";
import { findSessionPrincipal } from "../web/guard.ts";
import { withDeps } from "../web/plugin.ts";
import { isAdmin, type Principal } from "../accounts/principal.ts";
import type { ConnectionMeta } from "./types.ts";
import { HttpError, htmlResponse, isHtmx, readForm, readFormAll, redirect } from "../web/http.ts";
import { toViewer } from "../web/viewer.ts";
import { AddServerForm, AddServerPage, ConnectionCards, ConnectionsPage, PickList, PickTools, PickToolsPage, type AddServerValues, type PickToolsProps } from "../../views/connections.tsx";
import { flashMessage, withFlash } from "../web/flash.ts";
import { matchesTool, readToolFilter } from "./tool-filter.ts";
import type { ToolRow } from "./types.ts";
import { readAuthForm, readTimeoutForm } from "./forms.ts";
import { addConnection } from "./add.ts";
import { getConnection, listConnections } from "./queries.ts";
import { listConnectionTools } from "./tools.ts";
import { saveToolPick } from "./exposure.ts";
import { cardUsagePanels } from "../usage/panels.tsx";

/** Identifies a tool in the pick form without putting its (untrusted, any-character) name there. */
export function toolKey(name: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(name))).slice(0, 24);
}

/** By (workspace, id): another workspace's connection is a 404 like a missing one. */
export async function loadOwnConnection(deps: AppDeps, principal: Principal, id: string): Promise<ConnectionMeta> {
  const connection = await getConnection(deps, principal.workspaceId, id);
  if (!connection) throw new HttpError(404, "There is no such connection in this workspace.");
  return connection;
}

function tickedKeys(form: FormData): Set<string> {
  return new Set(form.getAll("tool").filter((v): v is string => typeof v === "string"));
}

/** The pick step as the posted form left it, after a filter or a bulk action ("shown" = matching the search). */
function pickState(connection: ConnectionMeta, tools: ToolRow[], form: FormData, action: string): PickToolsProps {
  const text = (name: string): string | null => {
    const value = form.get(name);
    return typeof value === "string" ? value : null;
  };
  const filter = readToolFilter({ get: text });
  const keys = tools.map((tool) => toolKey(tool.name));
  const ticked = text("ticks") === "carried" ? tickedKeys(form) : new Set(keys);
  const before = ticked.size;
  tools.forEach((tool, i) => {
    const key = keys[i] ?? "";
    const shown = matchesTool(tool, ticked.has(key), filter);
    if (action === "all-on" || (action === "shown-on" && shown)) ticked.add(key);
    if (action === "all-off" || (action === "shown-off" && shown)) ticked.delete(key);
  });
  const notice = action === "filter" ? undefined : `${Math.abs(ticked.size - before)} ${ticked.size >= before ? "ticked" : "unticked"}; nothing is saved until you save.`;
  return { connection, tools, keys, ticked, filter, notice };
}

/** The connections page, Add server, and choosing the tools of a server just added. */
export function connectionPages(deps: AppDeps): AnyElysia {
  const mcpUrl = `${deps.config.baseUrl}/api/v1/mcp`;
  return new Elysia({ name: "connection-pages" })
    .use(withDeps(deps))
    .get("/", async ({ request }) => {
      if (!(await isSetupDone(deps.database))) return redirect(request, "/setup");
      const principal = await findSessionPrincipal(deps, request);
      if (!principal) return redirect(request, "/sign-in");
      const connections = await listConnections(deps, principal.workspaceId);
      const usage = await cardUsagePanels(deps.database, principal, deps.clock());
      return htmlResponse(<ConnectionsPage user={toViewer(principal)} connections={connections} mcpUrl={mcpUrl} usage={usage} now={Date.now()} flash={flashMessage(request)} />);
    })
    // The connections page's cards, polled by htmx; without htmx, the page.
    .get("/connections/cards", async ({ request, principal }) => {
      if (!isHtmx(request)) return redirect(request, "/");
      const connections = await listConnections(deps, principal.workspaceId);
      const usage = await cardUsagePanels(deps.database, principal, deps.clock());
      return htmlResponse(<ConnectionCards connections={connections} admin={isAdmin(principal)} now={Date.now()} usage={usage} />);
    }, { member: true })
    .get("/connections/new", ({ principal }) => htmlResponse(<AddServerPage user={toViewer(principal)} />), { admin: true })
    .post("/connections", async ({ request, principal }) => {
      const form = await readForm(request);
      const auth = readAuthForm(form);
      const values: AddServerValues = {
        name: form.name ?? "",
        url: form.url ?? "",
        auth: auth.kind === "invalid" ? "none" : auth.kind,
        header: form.header ?? "",
        callTimeoutMs: form.callTimeoutMs ?? "",
        sharing: form.sharing === "per_member" ? "per_member" : "shared",
        exposeAll: form.expose === "all",
      };
      const result =
        auth.kind === "invalid"
          ? { ok: false as const, errors: { auth: auth.message } }
          : await addConnection(deps, principal, {
              name: (form.name ?? "").trim(),
              url: form.url ?? "",
              auth,
              callTimeoutMs: readTimeoutForm(form.callTimeoutMs),
              sharing: form.sharing === "per_member" ? "per_member" : "shared",
              // Only a ticked box exposes tools before the pick is saved.
              expose: form.expose === "all" ? "all" : "none",
            });
      if (!result.ok) {
        // The server signs in with OAuth: the form comes back with OAuth chosen, one click from adding.
        if ("suggestAuth" in result && result.suggestAuth) values.auth = result.suggestAuth;
        if (isHtmx(request)) return htmlResponse(<AddServerForm values={values} errors={result.errors} />, 422);
        return htmlResponse(<AddServerPage user={toViewer(principal)} values={values} errors={result.errors} />, 422);
      }
      // An OAuth server has no tools until it is authorized: its page has Connect (the callback then
      // leads to the pick). "Expose every tool" skips the pick.
      if (result.connection.authKind === "oauth" || result.connection.exposeNewTools) return redirect(request, `/connections/${encodeURIComponent(result.connection.id)}`);
      const path = `/connections/${encodeURIComponent(result.connection.id)}/expose`;
      if (!isHtmx(request)) return redirect(request, path);
      const connection = await loadOwnConnection(deps, principal, result.connection.id);
      const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
      // The pick step gets its own address, so a reload shows it again rather than an empty form.
      return htmlResponse(<PickTools connection={connection} tools={tools} keys={tools.map((t) => toolKey(t.name))} />, 200, { "hx-push-url": path });
    }, { admin: true })
    .get("/connections/:id/expose", async ({ principal, connection }) => {
      const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
      return htmlResponse(<PickToolsPage user={toViewer(principal)} connection={connection} tools={tools} keys={tools.map((t) => toolKey(t.name))} />);
    }, { admin: true, connection: true })
    .post("/connections/:id/expose", async ({ request, principal, connection }) => {
      const form = await readFormAll(request);
      const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
      const action = form.get("action");
      if (typeof action === "string" && action !== "save") {
        // Filter or a bulk button: the form comes back with the ticks it carried; nothing is saved yet.
        const props = pickState(connection, tools, form, action);
        if (isHtmx(request)) return htmlResponse(<PickTools {...props} />);
        return htmlResponse(<PickToolsPage user={toViewer(principal)} {...props} />);
      }
      const keys = tickedKeys(form);
      const chosen = new Set(tools.filter((tool) => keys.has(toolKey(tool.name))).map((tool) => tool.name));
      const saved = await saveToolPick(deps, principal.workspaceId, connection.id, chosen);
      if (!saved.ok && "notFound" in saved) throw new HttpError(404, "There is no such connection in this workspace.");
      // A re-sync removed a tool while the page was open: show the list as it is now.
      if (!saved.ok) return redirect(request, `/connections/${encodeURIComponent(connection.id)}/expose`);
      return redirect(request, withFlash(`/connections/${encodeURIComponent(connection.id)}`, "picked"));
    }, { admin: true, connection: true })
    // The pick step's type-ahead: the list alone, with the ticks the form carried.
    .post("/connections/:id/expose/list", async ({ request, principal, connection }) => {
      const form = await readFormAll(request);
      const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
      return htmlResponse(<PickList {...pickState(connection, tools, form, "filter")} />);
}, { admin: true, connection: true });
}
