import { Server, type LoggingLevel } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import type { CallDeps } from "./results.ts";
import { NATIVE_TOOLS } from "./native-tools.ts";
import { relayedCall, MAX_INPUT_ROUNDS } from "./relayed-call.ts";
import { callerLogLevel, forwardLogLevel } from "./logging.ts";

export const SERVER_INFO = { name: "mcp-gateway", version: "0.1.0" };

const INSTRUCTIONS =
  "This gateway serves tools of several MCP servers, named connection__tool, beside its own gateway__ tools. " +
  "With many tools, use gateway__search_tools to find one and gateway__call_tool to call it.";

/**
 * One MCP server instance for one request (or one 2025 session): the principal decides which
 * workspace's tools it serves. The low-level Server lets the list change per workspace and per call.
 */
export function createGatewayServer(deps: CallDeps, principal: Principal): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: true }, logging: {} },
    instructions: INSTRUCTIONS,
    // A 2025 session is asked what an upstream needs with server-initiated requests (the SDK's
    // shim over input_required results): as many rounds as the gateway allows, each waiting as
    // long as a held call does.
    inputRequired: { maxRounds: MAX_INPUT_ROUNDS, roundTimeoutMs: deps.pool.held.limits.waitMs },
  });
  // A 2025 session's level (this server lives as long as the session); 2026 requests carry their own.
  let sessionLevel: LoggingLevel | undefined;
  server.setRequestHandler("logging/setLevel", async (request) => {
    sessionLevel = request.params.level;
    await forwardLogLevel(deps, principal, request.params.level);
    return {};
  });
  server.setRequestHandler("tools/list", async () => {
    const index = await deps.toolIndex.get(principal.workspaceId);
    return { tools: [...NATIVE_TOOLS, ...index.listed] };
  });
  server.setRequestHandler("tools/call", (request, ctx) =>
    relayedCall(deps, principal, request, ctx, {
      capabilities: server.getClientCapabilities(),
      log: callerLogLevel(ctx.mcpReq.envelope as Record<string, unknown> | undefined, sessionLevel),
    }) as never,
  );
  return server;
}
