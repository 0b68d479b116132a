import type { Tool } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import { NATIVE_PREFIX, SEPARATOR } from "../connections/names.ts";
import { allowsItem, emptyLimit, type ProfileItemKind, type ProfileLimit } from "../profiles/limit.ts";
import type { WorkspaceIndex } from "./tool-index.ts";

/*
 * Where a profile is enforced. A request limited to a profile (principal.profileId: its key's or
 * grant's, or the /api/v1/mcp/p/<profile> endpoint's) lists and uses only the profile's items, under
 * the workspace's names. Every check goes by what an exposed name routes to (connection and the
 * upstream's own name), never by the name as typed: a name in another case, a look-alike, or another
 * connection's resource URI routes to nothing in the profile and is refused.
 */

const SEARCH = `${NATIVE_PREFIX}${SEPARATOR}search_tools`;
const CALL = `${NATIVE_PREFIX}${SEPARATOR}call_tool`;

/** The profile the principal is limited to, from the index; null when it is not limited. */
export function limitOf(index: WorkspaceIndex, principal: Principal): ProfileLimit | null {
  if (principal.profileId === undefined) return null;
  return index.profiles.byId.get(principal.profileId) ?? emptyLimit(principal.profileId);
}

/** Whether the gateway's own tool is served under this profile: all three in full mode, search and call in search mode. */
export function nativeInProfile(limit: ProfileLimit, name: string): boolean {
  if (limit.mode === "search") return name === SEARCH || name === CALL;
  return name.startsWith(NATIVE_PREFIX + SEPARATOR);
}

// Per exposed list (rebuilt with its index), per profile (rebuilt with it too): what the profile shows.
const shown = new WeakMap<object, WeakMap<ProfileLimit, unknown[]>>();

/** `items` (named as the workspace exposes them) less what is not in the profile. */
export function filterToProfile<T extends object>(limit: ProfileLimit, kind: ProfileItemKind, items: readonly T[], originOf: (item: T) => { connectionName: string; originalName: string } | null): T[] {
  let byLimit = shown.get(items);
  if (!byLimit) {
    byLimit = new WeakMap();
    shown.set(items, byLimit);
  }
  const cached = byLimit.get(limit);
  if (cached) return cached as T[];
  const kept = items.filter((item) => {
    const origin = originOf(item);
    return origin !== null && allowsItem(limit, kind, origin.connectionName, origin.originalName);
  });
  byLimit.set(limit, kept);
  return kept;
}

/** tools/list under a profile: the gateway's tools its mode serves, then (full mode) the profile's tools. */
export function toolsInProfile(index: WorkspaceIndex, limit: ProfileLimit, natives: readonly Tool[]): Tool[] {
  const own = natives.filter((tool) => nativeInProfile(limit, tool.name));
  if (limit.mode === "search") return own;
  return [...own, ...profileTools(index, limit)];
}

/** The profile's tools that the workspace lists (turned on, not hidden), under their workspace names. */
export function profileTools(index: WorkspaceIndex, limit: ProfileLimit): Tool[] {
  return filterToProfile(limit, "tool", index.listed, (tool) => {
    const route = index.routes.get(tool.name);
    return route ? { connectionName: route.connectionName, originalName: route.definition.name } : null;
  });
}

/** Whether a tools/call of an exposed name may go on under the profile (whether it exists is the router's to say). */
export function toolCallAllowed(index: WorkspaceIndex, limit: ProfileLimit, name: string): boolean {
  if (name.startsWith(NATIVE_PREFIX + SEPARATOR)) return nativeInProfile(limit, name);
  const route = index.routes.get(name);
  return route !== undefined && allowsItem(limit, "tool", route.connectionName, route.definition.name);
}

/** The refusal a client reads: what it asked for, the profile, and where the profile's items are listed. */
export function notInProfile(limit: ProfileLimit, what: string, lister: string): string {
  return `${what} is not in the profile "${limit.name}", which this request is limited to. ${lister} names what the profile has.`;
}
