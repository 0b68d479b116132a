import { Server, type CacheHint, type CallToolResult } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import { callTool } from "./call.ts";
import type { CallDeps } from "./results.ts";
import { NATIVE_TOOLS } from "./native-tools.ts";
import { registerTaskHandlers, taskCallOf } from "./tasks.ts";

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
const PRIVATE_LIST: CacheHint = { ttlMs: LIST_TTL_MS, cacheScope: "private" };
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
 * workspace's tools it serves, and what it announces (the capabilities its connections offer, their
 * instructions beside the gateway's own), all from the in-memory index. The low-level Server lets
 * the list change per workspace and per call.
 */
export async function createGatewayServer(deps: CallDeps, principal: Principal): Promise<Server> {
  const { profile } = await deps.toolIndex.get(principal.workspaceId);
  const server = new Server(SERVER_INFO, { capabilities: profile.capabilities, instructions: profile.instructions, cacheHints: CACHE_HINTS });
  server.setRequestHandler("tools/list", async () => {
    const index = await deps.toolIndex.get(principal.workspaceId);
    return { tools: [...NATIVE_TOOLS, ...index.listed] };
  });
  server.setRequestHandler("tools/call", async (request, ctx): Promise<CallToolResult> => {
    const progressToken = request.params._meta?.progressToken;
    const meta = forwardedMeta(request.params._meta);
    // A task is relayed only where one was offered; elsewhere the call runs as a plain one, as the spec lets a server do.
    const task = profile.capabilities.tasks ? taskCallOf(deps, principal, (request.params as { task?: unknown }).task) : undefined;
    return callTool(deps, principal, request.params.name, request.params.arguments, {
      signal: ctx.mcpReq.signal,
      ...(meta ? { meta } : {}),
      ...(task ? { task } : {}),
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
  if (profile.capabilities.tasks) registerTaskHandlers(server, deps, principal);
  return server;
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
