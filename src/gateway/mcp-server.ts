import { Server, type CallToolResult } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import { callTool } from "./call.ts";
import type { CallDeps } from "./results.ts";
import { listToolsInView, toolToCall } from "./tools-in-view.ts";
import { WORKSPACE_VIEW, type GatewayView } from "./view.ts";

export const SERVER_INFO = { name: "mcp-gateway", version: "0.1.0" };

const INSTRUCTIONS =
  "This gateway serves tools of several MCP servers, named connection__tool, beside its own gateway__ tools. " +
  "With many tools, use gateway__search_tools to find one and gateway__call_tool to call it.";

/**
 * One MCP server instance for one request (or one 2025 session): the principal decides which
 * workspace's tools it serves, the view whether all of them or one connection's (view.ts). The
 * low-level Server lets the list change per workspace and per call.
 */
export function createGatewayServer(deps: CallDeps, principal: Principal, view: GatewayView = WORKSPACE_VIEW): Server {
  // The instructions name the gateway's own tools, which only the workspace view has.
  const server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: true } }, ...(view.kind === "workspace" ? { instructions: INSTRUCTIONS } : {}) });
  server.setRequestHandler("tools/list", async () => ({ tools: await listToolsInView(deps, principal, view) }));
  server.setRequestHandler("tools/call", async (request, ctx): Promise<CallToolResult> => {
    const progressToken = request.params._meta?.progressToken;
    const name = await toolToCall(deps, principal, view, request.params.name);
    return callTool(deps, principal, name, request.params.arguments, {
      signal: ctx.mcpReq.signal,
      onProgress:
        progressToken === undefined
          ? undefined
          : (p) => {
              void ctx.mcpReq
                .notify({ method: "notifications/progress", params: { progressToken, progress: p.progress, ...(p.total !== undefined ? { total: p.total } : {}), ...(p.message !== undefined ? { message: p.message } : {}) } })
                .catch(() => undefined);
            },
    });
  });
  return server;
}
