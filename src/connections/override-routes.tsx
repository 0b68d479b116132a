import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import type { Principal } from "../accounts/principal.ts";
import { HttpError, htmlResponse, isHtmx, readForm, redirect } from "../web/http.ts";
import { toViewer } from "../web/viewer.ts";
import { ToolsSection } from "../../views/tool-list.tsx";
import { ToolOverridePage, type OverrideFormState } from "../../views/tool-override.tsx";
import type { ConnectionMeta, ToolRow } from "./types.ts";
import { listChangedToolNames, listConnectionTools } from "./tools.ts";
import { filterQuery, readToolFilter } from "./tool-filter.ts";
import { setToolOverride } from "./tool-override-set.ts";
import { listHeldToolNames } from "./review-model.ts";

const NO_TOOL = "There is no such tool on this connection. It may have gone at the last sync.";

async function loadTool(deps: AppDeps, principal: Principal, connection: ConnectionMeta, request: Request): Promise<ToolRow> {
  const name = new URL(request.url).searchParams.get("tool") ?? "";
  const tool = (await listConnectionTools(deps, principal.workspaceId, connection.id)).find((t) => t.name === name);
  if (!tool) throw new HttpError(404, NO_TOOL);
  return tool;
}

/**
 * An admin's alias and description for a connection's tool (tool-override-set.ts). With htmx the
 * tools section comes back (with the form open and its errors on a refusal); without, the page of
 * the connection, or the form's own page with its errors.
 */
export function toolOverrideRoutes(deps: AppDeps): AnyElysia {
  const page = (c: ConnectionMeta): string => `/connections/${encodeURIComponent(c.id)}`;
  return new Elysia({ name: "tool-overrides" })
    .use(withDeps(deps))
    .get("/connections/:id/tools/override", async ({ request, principal, connection }) => {
      const tool = await loadTool(deps, principal, connection, request);
      return htmlResponse(<ToolOverridePage user={toViewer(principal)} connection={connection} tool={tool} />);
    }, { admin: true, connection: true })
    .post("/connections/:id/tools/override", async ({ request, principal, connection }) => {
      const tool = await loadTool(deps, principal, connection, request);
      const form = await readForm(request);
      const values = form.action === "clear" ? { alias: "", description: "" } : { alias: form.alias ?? "", description: form.description ?? "" };
      const result = await setToolOverride(deps, principal, connection.id, tool.name, values);
      if (!result.ok && "notFound" in result) throw new HttpError(404, NO_TOOL);
      const filter = readToolFilter({ get: (name) => form[name] ?? null });
      const state: OverrideFormState | undefined = result.ok ? undefined : { tool: tool.name, values, errors: result.errors };
      if (!isHtmx(request)) {
        if (state) return htmlResponse(<ToolOverridePage user={toViewer(principal)} connection={connection} tool={tool} state={state} />, 422);
        return redirect(request, `${page(connection)}${filterQuery(filter)}#tools`);
      }
      const tools = await listConnectionTools(deps, principal.workspaceId, connection.id);
      const notice = result.ok ? savedNotice(tools.find((t) => t.name === tool.name) ?? tool, result.displaced) : undefined;
      const changed = await listChangedToolNames(deps, connection.id);
      return htmlResponse(<ToolsSection connection={connection} tools={tools} admin filter={filter} changed={changed} held={await listHeldToolNames(deps.database, principal.workspaceId, connection.id)} notice={notice} overrideForm={state} />, state ? 422 : 200);
    }, { admin: true, connection: true });
}

function savedNotice(tool: ToolRow, displaced?: { connectionName: string; toolName: string }): string {
  const description = tool.override?.description ? "the description you wrote" : "the upstream's description";
  const saved = `Saved: agents now see ${tool.name} as ${tool.exposedName}, with ${description}${tool.enabled ? "" : ", once it is turned on"}.`;
  if (!displaced) return saved;
  return `${saved} ${tool.exposedName} was kept for ${displaced.connectionName}'s tool ${displaced.toolName}, which its upstream no longer lists; if it comes back, it has its usual name.`;
}
