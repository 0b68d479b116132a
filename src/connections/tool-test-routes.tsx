import { Elysia, type AnyElysia } from "elysia";
import { ProtocolError, type CallToolResult } from "@modelcontextprotocol/server";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import type { Principal } from "../accounts/principal.ts";
import { callTool } from "../gateway/call.ts";
import { errorResult } from "../gateway/results.ts";
import { HttpError, htmlResponse, isHtmx, readFormAll } from "../web/http.ts";
import { toViewer } from "../web/viewer.ts";
import { ToolTestPage, ToolTestPanel, type ToolTestProps } from "../../views/tool-test.tsx";
import type { ConnectionMeta } from "./types.ts";
import { listConnectionTools } from "./tools.ts";
import { argFields, initialValues, readArgs, type ArgValues } from "./tool-form.ts";

async function loadTool(deps: AppDeps, principal: Principal, connection: ConnectionMeta, request: Request): Promise<Omit<ToolTestProps, "values">> {
  const name = new URL(request.url).searchParams.get("tool") ?? "";
  const tool = (await listConnectionTools(deps, principal.workspaceId, connection.id)).find((t) => t.name === name);
  if (!tool) throw new HttpError(404, "There is no such tool on this connection. It may have gone at the last sync.");
  return { connection, tool, fields: argFields(tool.inputSchema) };
}

/** The form as one string per input: a checkbox group's ticked indexes are joined by ",". */
async function readArgForm(request: Request): Promise<ArgValues> {
  const form = await readFormAll(request);
  const values: ArgValues = {};
  for (const name of new Set(form.keys())) {
    values[name] = form
      .getAll(name)
      .filter((v): v is string => typeof v === "string")
      .join(",");
  }
  return values;
}

/**
 * "Test a tool": a form built from the tool's input schema, run through the gateway's own
 * callTool as the signed-in member, so the call is routed, policed and recorded like any other.
 */
export function toolTestRoutes(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "tool-test" })
    .use(withDeps(deps))
    .get("/connections/:id/test", async ({ request, principal, connection }) => {
      const loaded = await loadTool(deps, principal, connection, request);
      return htmlResponse(<ToolTestPage user={toViewer(principal)} {...loaded} values={initialValues(loaded.fields)} />);
    }, { member: true, connection: true })
    .post("/connections/:id/test", async ({ request, principal, connection }) => {
      const loaded = await loadTool(deps, principal, connection, request);
      const values = await readArgForm(request);
      const read = readArgs(loaded.fields, values);
      let props: ToolTestProps;
      let status = 200;
      if (!read.ok) {
        props = { ...loaded, values, errors: read.errors };
        status = 422;
      } else {
        props = { ...loaded, values, result: await run(deps, principal, loaded.tool.exposedName, read.args) };
      }
      if (isHtmx(request)) return htmlResponse(<ToolTestPanel {...props} />, status);
      return htmlResponse(<ToolTestPage user={toViewer(principal)} {...props} />, status);
    }, { member: true, connection: true });
}

async function run(deps: AppDeps, principal: Principal, exposedName: string, args: Record<string, unknown>): Promise<CallToolResult> {
  try {
    return await callTool(deps, principal, exposedName, args);
  } catch (error) {
    // A protocol refusal (an unknown tool) is what a client would see as a JSON-RPC error.
    if (error instanceof ProtocolError) return errorResult(error.message);
    throw error;
  }
}
