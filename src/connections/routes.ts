import { Elysia, type AnyElysia } from "elysia";
import { z } from "zod";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import { parseBody, readJsonObject } from "../web/body.ts";
import { HttpError, invalidRequest, jsonResponse } from "../web/http.ts";
import { publicConnection } from "./public.ts";
import { readAuthJson } from "./forms.ts";
import { readExposure, saveToolPick } from "./exposure.ts";
import { listStatusEvents } from "./status.ts";
import { addConnection } from "./add.ts";
import { deleteConnection } from "./remove.ts";
import { getConnection, listConnections } from "./queries.ts";
import { listConnectionTools, setToolEnabled } from "./tools.ts";
import { isItemKind, listConnectionItems, setItemEnabled } from "./items.ts";
import { retryConnectionNow, syncConnection } from "./resync.ts";
import { updateConnection } from "./update.ts";

/** The credential, read by its kind's own rules (forms.ts); a bad one is the `auth` field's message. */
const authField = z.unknown().optional().transform((value, context) => {
  const auth = readAuthJson(value);
  if (!("invalid" in auth)) return auth;
  context.addIssue({ code: "custom", message: auth.invalid });
  return z.NEVER;
});

// Nothing is exposed unless the request says "all"; otherwise pick with PUT …/tools.
const exposeField = z.unknown().optional().transform((value, context) => {
  const expose = readExposure(value);
  if (typeof expose !== "object") return expose;
  context.addIssue({ code: "custom", message: expose.invalid });
  return z.NEVER;
});

/** A name or URL of the wrong type is judged as an empty one, by the service, with its message. */
const NewConnection = z.object({
  name: z.string().catch(""),
  url: z.string().catch(""),
  auth: authField,
  callTimeoutMs: z.number().nullable().catch(null),
  sharing: z.enum(["shared", "per_member"], { error: 'sharing must be "shared" or "per_member"' }).default("shared"),
  expose: exposeField,
});

/** Only what the body names changes. The service judges the timeout (a non-number becomes NaN, which it refuses with its message). */
const ConnectionChanges = z.object({
  name: z.coerce.string().optional(),
  url: z.coerce.string().optional(),
  callTimeoutMs: z.union([z.null(), z.coerce.number().catch(Number.NaN)]).optional(),
  auth: authField.optional(),
});

const PICK_MESSAGE = 'Send { "enabled": ["tool", …] }: the names of the tools to expose.';
const ToolPick = z.object({ enabled: z.array(z.string({ error: PICK_MESSAGE }), { error: PICK_MESSAGE }) });
const ToolSwitch = z.object({ enabled: z.boolean({ error: 'Send { "enabled": true } or { "enabled": false }.' }) });

const NOT_FOUND = "No such connection in this workspace.";

/** The JSON admin API: the dashboard pages call the same service functions. */
export function connectionRoutes(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "connections-api" })
    .use(withDeps(deps))
    .get("/api/v1/connections", async ({ principal }) => jsonResponse({ connections: (await listConnections(deps, principal.workspaceId)).map(publicConnection) }), { apiKey: true })
    .post(
      "/api/v1/connections",
      async ({ request, principal }) => {
        const body = parseBody(NewConnection, await readJsonObject(request));
        const result = await addConnection(deps, principal, body);
        if (!result.ok) return invalidRequest(result.errors);
        const connection = await getConnection(deps, principal.workspaceId, result.connection.id);
        return jsonResponse({ connection: connection && publicConnection(connection), tools: result.tools.map((t) => t.name), report: result.report }, 201);
      },
      { apiAdmin: true },
    )
    .get(
      "/api/v1/connections/:id",
      async ({ principal, connection }) =>
        jsonResponse({
          connection: publicConnection(connection),
          tools: await listConnectionTools(deps, principal.workspaceId, connection.id),
          items: await listConnectionItems(deps, principal.workspaceId, connection.name),
          events: await listStatusEvents(deps.database, principal.workspaceId, connection.id, 20),
        }),
      { apiKey: true, connection: true },
    )
    .patch(
      "/api/v1/connections/:id",
      async ({ request, params, principal }) => {
        const input = parseBody(ConnectionChanges, await readJsonObject(request));
        const result = await updateConnection(deps, principal, params.id, input);
        if (!result.ok) {
          if ("notFound" in result) throw new HttpError(404, NOT_FOUND);
          return invalidRequest(result.errors);
        }
        const connection = await getConnection(deps, principal.workspaceId, params.id);
        return jsonResponse({ connection: connection && publicConnection(connection), report: result.report });
      },
      { apiAdmin: true },
    )
    .delete(
      "/api/v1/connections/:id",
      async ({ params, principal }) => {
        if (!(await deleteConnection(deps, principal, params.id))) throw new HttpError(404, NOT_FOUND);
        return new Response(null, { status: 204 });
      },
      { apiAdmin: true },
    )
    .post(
      "/api/v1/connections/:id/sync",
      async ({ params, principal }) => {
        const result = await syncConnection(deps, principal.workspaceId, params.id);
        if (!result.ok) {
          if ("notFound" in result) throw new HttpError(404, NOT_FOUND);
          return jsonResponse({ error: "upstream_error", message: result.error }, 502);
        }
        return jsonResponse({ report: result.report });
      },
      { apiAdmin: true },
    )
    .post(
      "/api/v1/connections/:id/retry",
      async ({ params, principal }) => {
        const result = await retryConnectionNow(deps, principal.workspaceId, params.id);
        if (!result.ok && "notFound" in result) throw new HttpError(404, NOT_FOUND);
        const connection = await getConnection(deps, principal.workspaceId, params.id);
        return jsonResponse({ connection: connection && publicConnection(connection), ...(result.ok ? { report: result.report } : { error: result.error }) });
      },
      { apiAdmin: true },
    )
    // The API's pick: exactly these tools on, the others off (the dashboard's "Choose tools").
    .put(
      "/api/v1/connections/:id/tools",
      async ({ request, params, principal }) => {
        const { enabled } = parseBody(ToolPick, await readJsonObject(request));
        const result = await saveToolPick(deps, principal.workspaceId, params.id, new Set(enabled));
        if (!result.ok) {
          if ("notFound" in result) throw new HttpError(404, NOT_FOUND);
          return invalidRequest({ enabled: `This connection has no tool named ${result.unknown.map((name) => JSON.stringify(name)).join(", ")}.` });
        }
        return jsonResponse({ enabled: result.enabled });
      },
      { apiAdmin: true },
    )
    // A prompt (by name), resource or resource template (by the upstream's URI, percent-encoded) on or off.
    .patch(
      "/api/v1/connections/:id/items/:kind/:name",
      async ({ request, params, principal }) => {
        const { enabled } = parseBody(ToolSwitch, await readJsonObject(request));
        if (!isItemKind(params.kind)) throw new HttpError(404, "Item kinds are prompt, resource and resource_template.");
        const item = { kind: params.kind, name: params.name };
        if (!(await setItemEnabled(deps, principal.workspaceId, params.id, item, enabled))) throw new HttpError(404, `No such ${params.kind.replace("_", " ")} on this connection.`);
        return jsonResponse({ ...item, enabled });
      },
      { apiAdmin: true },
    )
    .patch(
      "/api/v1/connections/:id/tools/:tool",
      async ({ request, params, principal }) => {
        const { enabled } = parseBody(ToolSwitch, await readJsonObject(request));
        if (!(await setToolEnabled(deps, principal.workspaceId, params.id, params.tool, enabled))) throw new HttpError(404, "No such tool on this connection.");
        return jsonResponse({ tool: params.tool, enabled });
      },
      { apiAdmin: true },
    );
}
