import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { requireApiAdmin, requireApiKey } from "../web/guard.ts";
import { HttpError, jsonResponse } from "../web/http.ts";
import { listAccessLog, OUTCOMES, userScope } from "../accesslog/query.ts";
import type { Outcome } from "../accesslog/recorder.ts";
import { publicConnection } from "./public.ts";
import { readAuthJson } from "./forms.ts";
import { readExposure, saveToolPick } from "./exposure.ts";
import { listStatusEvents } from "./status.ts";
import { addConnection } from "./add.ts";
import { deleteConnection } from "./remove.ts";
import { getConnection, listConnections } from "./queries.ts";
import { listConnectionTools, setToolEnabled } from "./tools.ts";
import { retryConnectionNow, syncConnection } from "./resync.ts";
import { updateConnection, type UpdateConnectionInput } from "./update.ts";

async function readJson(request: Request): Promise<Record<string, unknown>> {
  if (!(request.headers.get("content-type") ?? "").includes("application/json")) throw new HttpError(415, "Send a JSON body with Content-Type: application/json.");
  const body = await request.json().catch(() => null);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "The body must be a JSON object.");
  return body as Record<string, unknown>;
}

function invalid(errors: Record<string, string>): Response {
  return jsonResponse({ error: "invalid_request", message: Object.values(errors).join(" "), fields: errors }, 422);
}

/** The JSON admin API: the dashboard pages call the same service functions. */
export function connectionRoutes(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "connections-api" })
    .get("/api/v1/connections", async ({ request }) => {
      const principal = await requireApiKey(deps, request);
      return jsonResponse({ connections: (await listConnections(deps, principal.workspaceId)).map(publicConnection) });
    })
    .post("/api/v1/connections", async ({ request }) => {
      const principal = await requireApiAdmin(deps, request);
      const body = await readJson(request);
      const auth = readAuthJson(body.auth);
      if ("invalid" in auth) return invalid({ auth: auth.invalid });
      if (body.sharing !== undefined && body.sharing !== "shared" && body.sharing !== "per_member") return invalid({ sharing: 'sharing must be "shared" or "per_member"' });
      // Nothing is exposed unless the request says "all"; otherwise pick with PUT …/tools.
      const expose = readExposure(body.expose);
      if (typeof expose === "object") return invalid({ expose: expose.invalid });
      const result = await addConnection(deps, principal, {
        name: typeof body.name === "string" ? body.name : "",
        url: typeof body.url === "string" ? body.url : "",
        auth,
        callTimeoutMs: typeof body.callTimeoutMs === "number" ? body.callTimeoutMs : null,
        sharing: body.sharing === "per_member" ? "per_member" : "shared",
        expose,
      });
      if (!result.ok) return invalid(result.errors);
      const connection = await getConnection(deps, principal.workspaceId, result.connection.id);
      return jsonResponse({ connection: connection && publicConnection(connection), tools: result.tools.map((t) => t.name), report: result.report }, 201);
    })
    .get("/api/v1/connections/:id", async ({ request, params }) => {
      const principal = await requireApiKey(deps, request);
      const connection = await getConnection(deps, principal.workspaceId, params.id);
      if (!connection) throw new HttpError(404, "No such connection in this workspace.");
      return jsonResponse({
        connection: publicConnection(connection),
        tools: await listConnectionTools(deps, principal.workspaceId, params.id),
        events: await listStatusEvents(deps.database, principal.workspaceId, params.id, 20),
      });
    })
    .patch("/api/v1/connections/:id", async ({ request, params }) => {
      const principal = await requireApiAdmin(deps, request);
      const body = await readJson(request);
      const input: UpdateConnectionInput = {};
      if (body.name !== undefined) input.name = String(body.name);
      if (body.url !== undefined) input.url = String(body.url);
      if (body.callTimeoutMs !== undefined) input.callTimeoutMs = body.callTimeoutMs === null ? null : Number(body.callTimeoutMs);
      if (body.auth !== undefined) {
        const auth = readAuthJson(body.auth);
        if ("invalid" in auth) return invalid({ auth: auth.invalid });
        input.auth = auth;
      }
      const result = await updateConnection(deps, principal, params.id, input);
      if (!result.ok) {
        if ("notFound" in result) throw new HttpError(404, "No such connection in this workspace.");
        return invalid(result.errors);
      }
      const connection = await getConnection(deps, principal.workspaceId, params.id);
      return jsonResponse({ connection: connection && publicConnection(connection), report: result.report });
    })
    .delete("/api/v1/connections/:id", async ({ request, params }) => {
      const principal = await requireApiAdmin(deps, request);
      if (!(await deleteConnection(deps, principal, params.id))) throw new HttpError(404, "No such connection in this workspace.");
      return new Response(null, { status: 204 });
    })
    .post("/api/v1/connections/:id/sync", async ({ request, params }) => {
      const principal = await requireApiAdmin(deps, request);
      const result = await syncConnection(deps, principal.workspaceId, params.id);
      if (!result.ok) {
        if ("notFound" in result) throw new HttpError(404, "No such connection in this workspace.");
        return jsonResponse({ error: "upstream_error", message: result.error }, 502);
      }
      return jsonResponse({ report: result.report });
    })
    .post("/api/v1/connections/:id/retry", async ({ request, params }) => {
      const principal = await requireApiAdmin(deps, request);
      const result = await retryConnectionNow(deps, principal.workspaceId, params.id);
      if (!result.ok && "notFound" in result) throw new HttpError(404, "No such connection in this workspace.");
      const connection = await getConnection(deps, principal.workspaceId, params.id);
      return jsonResponse({ connection: connection && publicConnection(connection), ...(result.ok ? { report: result.report } : { error: result.error }) });
    })
    // The API's pick: exactly these tools on, the others off (the dashboard's "Choose tools").
    .put("/api/v1/connections/:id/tools", async ({ request, params }) => {
      const principal = await requireApiAdmin(deps, request);
      const body = await readJson(request);
      if (!Array.isArray(body.enabled) || !body.enabled.every((name) => typeof name === "string")) {
        return invalid({ enabled: 'Send { "enabled": ["tool", …] }: the names of the tools to expose.' });
      }
      const result = await saveToolPick(deps, principal.workspaceId, params.id, new Set(body.enabled as string[]));
      if (!result.ok) {
        if ("notFound" in result) throw new HttpError(404, "No such connection in this workspace.");
        return invalid({ enabled: `This connection has no tool named ${result.unknown.map((name) => JSON.stringify(name)).join(", ")}.` });
      }
      return jsonResponse({ enabled: result.enabled });
    })
    .patch("/api/v1/connections/:id/tools/:tool", async ({ request, params }) => {
      const principal = await requireApiAdmin(deps, request);
      const body = await readJson(request);
      if (typeof body.enabled !== "boolean") return invalid({ enabled: "Send { \"enabled\": true } or { \"enabled\": false }." });
      if (!(await setToolEnabled(deps, principal.workspaceId, params.id, params.tool, body.enabled))) {
        throw new HttpError(404, "No such tool on this connection.");
      }
      return jsonResponse({ tool: params.tool, enabled: body.enabled });
    })
    .get("/api/v1/access-log", async ({ request }) => {
      const principal = await requireApiKey(deps, request);
      const query = new URL(request.url).searchParams;
      const outcome = query.get("outcome");
      if (outcome && !OUTCOMES.includes(outcome as Outcome)) return invalid({ outcome: `outcome must be one of ${OUTCOMES.join(", ")}` });
      const page = await listAccessLog(deps.database, principal.workspaceId, {
        connection: query.get("connection") ?? undefined,
        tool: query.get("tool") ?? undefined,
        outcome: (outcome as Outcome) || undefined,
        // A member's key reads their own calls only, as the dashboard shows them.
        userId: userScope(principal, query.get("user") ?? undefined),
        before: query.get("before") ?? undefined,
        limit: query.has("limit") ? Number(query.get("limit")) || 50 : undefined,
      });
      return jsonResponse(page);
    });
}
