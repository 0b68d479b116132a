import { ProtocolError, ProtocolErrorCode, type Tool } from "@modelcontextprotocol/server";
import { credentialId, type Principal } from "../accounts/principal.ts";
import { NATIVE_TOOLS } from "./native-tools.ts";
import type { CallDeps } from "./results.ts";
import type { RoutedTool } from "./tool-index.ts";
import { unwrapToolMeta } from "./resource-uris.ts";
import { listInView, resolveInView, type GatewayView, type ItemOrigin } from "./view.ts";
import { limitOf, notInProfile, toolCallAllowed, toolsInProfile } from "./profile-limit.ts";

/** A tool's connection and the name its upstream gives it. */
export function toolOrigin(route: RoutedTool): ItemOrigin {
  return { connectionName: route.connectionName, originalName: route.definition.name };
}

/** tools/list as the view shows it: the gateway's own tools are the workspace view's alone. */
export async function listToolsInView(deps: Pick<CallDeps, "toolIndex">, principal: Principal, view: GatewayView): Promise<Tool[]> {
  const index = await deps.toolIndex.get(principal.workspaceId);
  // A profile is served at the workspace's names only (the endpoint refuses a connection's URL to a limited request).
  const limit = limitOf(index, principal);
  // A profile's limit is rebuilt with its index: one list per limit, as per index below.
  if (limit) return once(limit, () => toolsInProfile(index, limit, NATIVE_TOOLS));
  if (view.kind === "workspace") return once(index.listed, () => [...NATIVE_TOOLS, ...index.listed]);
  const shown = listInView(view, index.listed, index.routes, toolOrigin);
  // The upstream's own URIs there, an MCP App's resource included.
  return shown.some((tool) => tool._meta) ? once(shown, () => shown.map((tool) => (tool._meta ? { ...tool, _meta: unwrapToolMeta(tool._meta) } : tool))) : shown;
}

// The same list for the same index (and view, or profile limit): never copied per request, and one array the fast
// relay can keep its serialized answer for (fast-call.ts). Lists are never changed once made.
const lists = new WeakMap<object, Tool[]>();
function once(from: object, make: () => Tool[]): Tool[] {
  let list = lists.get(from);
  if (!list) {
    list = make();
    lists.set(from, list);
  }
  return list;
}

/**
 * The exposed name a tools/call of `name` in this view goes to (call.ts routes exposed names).
 * A connection's view knows only its own tools: any other name is an unknown tool there, recorded
 * in the access log as a refused call to that connection, as the workspace endpoint records one.
 */
export async function toolToCall(deps: Pick<CallDeps, "toolIndex" | "accessLog">, principal: Principal, view: GatewayView, name: string): Promise<string> {
  const index = await deps.toolIndex.get(principal.workspaceId);
  const limit = limitOf(index, principal);
  if (limit) {
    if (toolCallAllowed(index, limit, name)) return name;
    const route = index.routes.get(name);
    recordRefusal(deps, principal, route?.connectionName ?? null, route?.definition.name ?? name, "not in the profile");
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, notInProfile(limit, `The tool ${name.slice(0, 200)}`, "tools/list"));
  }
  if (view.kind === "workspace") return name;
  const exposed = resolveInView(view, name, index.routes, toolOrigin);
  if (exposed !== null) return exposed;
  recordRefusal(deps, principal, view.connectionName, name, "unknown tool");
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}. ${view.connectionName} has no tool by this name; tools/list names the ones it has.`);
}

/** A call refused before routing, in the access log as a refused call (`denied`), as the router records one. */
function recordRefusal(deps: Pick<CallDeps, "accessLog">, principal: Principal, connectionName: string | null, tool: string, errorSummary: string): void {
  deps.accessLog.record({
    at: Date.now(),
    workspaceId: principal.workspaceId,
    userId: principal.userId,
    apiKeyId: credentialId(principal.credential),
    connectionName,
    tool: tool.slice(0, 200),
    outcome: "denied",
    latencyMs: 0,
    errorSummary,
    credentialUserId: null,
  });
}
