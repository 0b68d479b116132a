import { Server, type CallToolResult } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import { callTool } from "./call.ts";
import type { CallDeps } from "./results.ts";
import { NATIVE_TOOLS } from "./native-tools.ts";
import { inCallSpan } from "../observe/request-context.ts";

export const SERVER_INFO = { name: "mcp-gateway", version: "0.1.0" };

const INSTRUCTIONS =
  "This gateway serves tools of several MCP servers, named connection__tool, beside its own gateway__ tools. " +
  "With many tools, use gateway__search_tools to find one and gateway__call_tool to call it.";

/**
 * One MCP server instance for one request (or one 2025 session): the principal decides which
 * workspace's tools it serves. The low-level Server lets the list change per workspace and per call.
 */
export function createGatewayServer(deps: CallDeps, principal: Principal): Server {
  const server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: true } }, instructions: INSTRUCTIONS });
  server.setRequestHandler("tools/list", async () => {
    const index = await deps.toolIndex.get(principal.workspaceId);
    return { tools: [...NATIVE_TOOLS, ...index.listed] };
  });
  server.setRequestHandler("tools/call", async (request, ctx): Promise<CallToolResult> => {
    const progressToken = request.params._meta?.progressToken;
    // A span of its own when tracing is on, continuing the client's _meta.traceparent.
    return inCallSpan(request.params.name, request.params._meta, () => callTool(deps, principal, request.params.name, request.params.arguments, {
      signal: ctx.mcpReq.signal,
      onProgress:
        progressToken === undefined
          ? undefined
          : (p) => {
              void ctx.mcpReq
                .notify({ method: "notifications/progress", params: { progressToken, progress: p.progress, ...(p.total !== undefined ? { total: p.total } : {}), ...(p.message !== undefined ? { message: p.message } : {}) } })
                .catch(() => undefined);
            },
    }));
  });
  return server;
}
