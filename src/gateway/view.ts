/**
 * Which of a workspace's items one MCP server instance serves, and under which names:
 *
 * - the workspace (`/api/v1/mcp`): every connection's items, named `connection__item`, beside the
 *   gateway's own tools;
 * - one connection (`/api/v1/mcp/<connection>`): that connection's items only, under the names its
 *   upstream gives them, so a client (or the conformance suite) sees the upstream as it is.
 *
 * Every kind of item (tools today; prompts and resources as they are relayed) goes through the same
 * two functions over its index's exposed list and its routes (exposed name → route):
 * `listInView(view, listed, routes, originOf)` for a list and `resolveInView(view, name, routes,
 * originOf)` for a request by name. Neither reads the database: what they build from an index is kept
 * beside that index object and goes with it when the index is rebuilt. Resources, whose exposed URI
 * says its connection and the upstream's URI, list with the unwrapping as their routes (`{ get:
 * unwrap }`, field "uri") and resolve by wrapping the requested URI under the view's connection.
 */
export type GatewayView = { kind: "workspace" } | { kind: "connection"; connectionName: string };

export const WORKSPACE_VIEW: GatewayView = { kind: "workspace" };

/** Where an exposed item comes from: its connection, and the name (or URI) its upstream gives it. */
export type ItemOrigin = { connectionName: string; originalName: string };

/** The field that names an item: `name` for tools and prompts, `uri` for resources, `uriTemplate` for templates. */
export type NameField = "name" | "uri" | "uriTemplate";

// Per exposed list (rebuilt with its index), per connection: the list as that connection's view shows it.
const shownLists = new WeakMap<object, Map<string, unknown[]>>();
// Per routes map (rebuilt with its index): "connection\noriginal name" → exposed name.
const reverseRoutes = new WeakMap<object, Map<string, string>>();

/** Finds what an exposed name routes to: a map of routes, or any lookup (resource URIs unwrap). */
export type RouteLookup<R> = { get(exposed: string): R | undefined | null };

/** `items` (named as the workspace exposes them) as `view` shows them. */
export function listInView<T extends object, R>(
  view: GatewayView,
  items: readonly T[],
  routes: RouteLookup<R>,
  originOf: (route: R) => ItemOrigin,
  field: NameField = "name",
): T[] {
  if (view.kind === "workspace") return items as T[];
  let byConnection = shownLists.get(items);
  if (!byConnection) {
    byConnection = new Map();
    shownLists.set(items, byConnection);
  }
  const cached = byConnection.get(view.connectionName);
  if (cached) return cached as T[];
  const shown: T[] = [];
  for (const item of items) {
    const exposed = (item as Record<string, unknown>)[field];
    const route = typeof exposed === "string" ? routes.get(exposed) : undefined;
    if (route === undefined || route === null) continue;
    const origin = originOf(route);
    if (origin.connectionName === view.connectionName) shown.push({ ...item, [field]: origin.originalName });
  }
  byConnection.set(view.connectionName, shown);
  return shown;
}

/**
 * The exposed name of what `view` calls `name`, or null when the view has no such item. The
 * workspace view's names are the exposed ones (its router says whether they exist); a connection's
 * view finds only that connection's items, so no name reaches another connection from there.
 */
export function resolveInView<R>(view: GatewayView, name: string, routes: ReadonlyMap<string, R>, originOf: (route: R) => ItemOrigin): string | null {
  if (view.kind === "workspace") return name;
  let reverse = reverseRoutes.get(routes);
  if (!reverse) {
    reverse = new Map();
    for (const [exposed, route] of routes) {
      const origin = originOf(route);
      reverse.set(originKey(origin.connectionName, origin.originalName), exposed);
    }
    reverseRoutes.set(routes, reverse);
  }
  return reverse.get(originKey(view.connectionName, name)) ?? null;
}

// Connection names have no newline (connections/names.ts).
function originKey(connectionName: string, originalName: string): string {
  return `${connectionName}\n${originalName}`;
}
