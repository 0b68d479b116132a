import { Server, type CacheHint, type CallToolRequest, type CallToolResult, type InputRequiredResult, type LoggingLevel } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import type { CallDeps } from "./results.ts";
import { relayedCall, MAX_INPUT_ROUNDS, type CallRequest, type RelayedCallOptions } from "./relayed-call.ts";
import { callerLogLevel, forwardLogLevel } from "./logging.ts";
import { listToolsInView, toolToCall } from "./tools-in-view.ts";
import { WORKSPACE_VIEW, type GatewayView } from "./view.ts";
import { registerPromptHandlers } from "./prompts.ts";
import { registerResourceHandlers } from "./resources.ts";
import { registerCompletionHandler } from "./completions.ts";
import { registerTaskHandlers, taskCallOf } from "./tasks.ts";
import { buildGatewayProfile, type GatewayProfile } from "./server-profile.ts";
import { inCallSpan } from "../observe/request-context.ts";
import { limitOf } from "./profile-limit.ts";
import { hasConnection } from "../profiles/limit.ts";

export const SERVER_INFO = { name: "mcp-gateway", version: "0.1.0" };

/**
 * 2026-07-28 cache hints. Every list depends on who asks (their workspace, and what their key may
 * see), so none is for a shared cache. None may be reused either: an admin changes a list at any
 * moment, a client that does not listen would never hear of it, and the SDK client does cache a
 * list for its ttlMs (a tool turned on would stay missing that long). Answering again costs the
 * gateway a read of memory. The SDK writes these fields only into 2026-07-28 answers; 2025 clients
 * never see them.
 */
const LIST_TTL_MS = 0;
export const PRIVATE_LIST: CacheHint = { ttlMs: LIST_TTL_MS, cacheScope: "private" };
const CACHE_HINTS = {
  "tools/list": PRIVATE_LIST,
  "prompts/list": PRIVATE_LIST,
  "resources/list": PRIVATE_LIST,
  "resources/templates/list": PRIVATE_LIST,
  "server/discover": PRIVATE_LIST,
  // What a resource holds is the upstream's to say; only its scope is the gateway's.
  "resources/read": { cacheScope: "private" },
} satisfies Record<string, CacheHint>;

/**
 * One MCP server instance for one request (or one 2025 session): the principal decides which
 * workspace's items it serves, the view whether all of them or one connection's (view.ts), and
 * what it announces (the capabilities its connections offer, their instructions beside the
 * gateway's own), all from the in-memory index. A handler is registered only for what is
 * announced (the SDK refuses otherwise), so a method no connection offers is "Method not found".
 */
export async function createGatewayServer(deps: CallDeps, principal: Principal, view: GatewayView = WORKSPACE_VIEW): Promise<Server> {
  const profile = await profileInView(deps, principal, view);
  const capabilities = profile.capabilities;
  const server = new Server(SERVER_INFO, {
    capabilities,
    ...(profile.instructions ? { instructions: profile.instructions } : {}),
    cacheHints: CACHE_HINTS,
    // A 2025 session is asked what an upstream needs with server-initiated requests (the SDK's
    // shim over input_required results): as many rounds as the gateway allows, each waiting as
    // long as a held call does.
    inputRequired: { maxRounds: MAX_INPUT_ROUNDS, roundTimeoutMs: deps.pool.held.limits.waitMs },
  });
  if (capabilities.prompts) registerPromptHandlers(server, deps, principal, view);
  if (capabilities.resources) registerResourceHandlers(server, deps, principal, view);
  if (capabilities.completions) registerCompletionHandler(server, deps, principal, view);
  // A 2025 session's level (this server lives as long as the session); 2026 requests carry their own.
  let sessionLevel: LoggingLevel | undefined;
  if (capabilities.logging) {
    server.setRequestHandler("logging/setLevel", async (request) => {
      sessionLevel = request.params.level;
      await forwardLogLevel(deps, principal, request.params.level);
      return {};
    });
  }
  server.setRequestHandler("tools/list", async () => ({ tools: await listToolsInView(deps, principal, view) }));
  server.setRequestHandler("tools/call", async (request, ctx) => {
    // A task is relayed only where one was offered; elsewhere the call runs as a plain one, as the spec lets a server do.
    const task = capabilities.tasks ? taskCallOf(deps, principal, (request.params as { task?: unknown }).task) : undefined;
    return callToolInView(deps, principal, view, request, ctx.mcpReq, {
      capabilities: server.getClientCapabilities(),
      log: callerLogLevel(ctx.mcpReq.envelope as Record<string, unknown> | undefined, sessionLevel),
      task,
    }) as never;
  });
  if (capabilities.tasks) registerTaskHandlers(server, deps, principal);
  return server;
}

/**
 * tools/call in a view: the name resolved as the view resolves it (tools-in-view.ts), then relayed
 * (relayed-call.ts) in a span of its own when tracing is on, continuing the client's
 * _meta.traceparent. The SDK's handler above and the fast relay (fast-call.ts) both come here, so
 * that what a name resolves to is decided in one place.
 */
export async function callToolInView(
  deps: CallDeps,
  principal: Principal,
  view: GatewayView,
  request: CallToolRequest,
  ctx: CallRequest,
  options: Omit<RelayedCallOptions, "meta">,
): Promise<CallToolResult | InputRequiredResult> {
  const name = await toolToCall(deps, principal, view, request.params.name);
  // The call's tally of upstream time (metrics: the gateway's share of its latency is the rest).
  const timing = { upstreamSeconds: 0 };
  return inCallSpan(name, request.params._meta, () => relayedCall(deps, principal, { ...request, params: { ...request.params, name } }, ctx, { ...options, meta: forwardedMeta(request.params._meta), timing }));
}

/**
 * The workspace's profile, or at a connection's own URL that connection's: the capabilities it
 * offers and its own instructions (the gateway's name its native tools, which are not there).
 */
async function profileInView(deps: CallDeps, principal: Principal, view: GatewayView): Promise<GatewayProfile> {
  const index = await deps.toolIndex.get(principal.workspaceId);
  // Under a profile: what its connections offer and say, not the rest of the workspace's.
  const limit = limitOf(index, principal);
  if (limit) return buildGatewayProfile([...index.connections.values()].filter((c) => hasConnection(limit, c.name)));
  if (view.kind === "workspace") return index.profile;
  const connection = [...index.connections.values()].find((c) => c.name === view.connectionName);
  return { capabilities: buildGatewayProfile(connection ? [connection] : []).capabilities, instructions: connection?.serverInstructions ?? "" };
}

/**
 * The client's request `_meta` as the upstream gets it: the progress token is the gateway's to map
 * (its own client asks the upstream for progress), and the protocol's own keys
 * (`io.modelcontextprotocol/…`: revision, client info and capabilities on 2026-07-28) describe this
 * hop, which the gateway's client describes anew for the next.
 */
function forwardedMeta(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!meta) return undefined;
  const kept = Object.entries(meta).filter(([key]) => key !== "progressToken" && !key.startsWith("io.modelcontextprotocol/"));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}
