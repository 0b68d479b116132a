import { Server, type LoggingLevel } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import type { CallDeps } from "./results.ts";
import { relayedCall, MAX_INPUT_ROUNDS } from "./relayed-call.ts";
import { callerLogLevel, forwardLogLevel } from "./logging.ts";
import { listToolsInView, toolToCall } from "./tools-in-view.ts";
import { WORKSPACE_VIEW, type GatewayView } from "./view.ts";
import { registerPromptHandlers } from "./prompts.ts";
import { registerResourceHandlers } from "./resources.ts";
import { registerCompletionHandler } from "./completions.ts";

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
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { subscribe: true, listChanged: true }, completions: {}, logging: {} },
    // The instructions name the gateway's own tools, which only the workspace view has.
    ...(view.kind === "workspace" ? { instructions: INSTRUCTIONS } : {}),
    // A 2025 session is asked what an upstream needs with server-initiated requests (the SDK's
    // shim over input_required results): as many rounds as the gateway allows, each waiting as
    // long as a held call does.
    inputRequired: { maxRounds: MAX_INPUT_ROUNDS, roundTimeoutMs: deps.pool.held.limits.waitMs },
  });
  registerPromptHandlers(server, deps, principal, view);
  registerResourceHandlers(server, deps, principal, view);
  registerCompletionHandler(server, deps, principal, view);
  // A 2025 session's level (this server lives as long as the session); 2026 requests carry their own.
  let sessionLevel: LoggingLevel | undefined;
  server.setRequestHandler("logging/setLevel", async (request) => {
    sessionLevel = request.params.level;
    await forwardLogLevel(deps, principal, request.params.level);
    return {};
  });
  server.setRequestHandler("tools/list", async () => ({ tools: await listToolsInView(deps, principal, view) }));
  server.setRequestHandler("tools/call", async (request, ctx) => {
    const name = await toolToCall(deps, principal, view, request.params.name);
    return relayedCall(deps, principal, { ...request, params: { ...request.params, name } }, ctx, {
      capabilities: server.getClientCapabilities(),
      log: callerLogLevel(ctx.mcpReq.envelope as Record<string, unknown> | undefined, sessionLevel),
    }) as never;
  });
  return server;
}
