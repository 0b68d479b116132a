/**
 * A profile as the gateway enforces it: which items (by kind, connection name and the upstream's
 * own name or URI) a limited request may list and use. Built with the tool index (load.ts), so it
 * follows every change to profiles, connections and their items, on every replica.
 */
export type ProfileItemKind = "tool" | "prompt" | "resource" | "resource_template";

export type ProfileMode = "full" | "search";

export type ProfileLimit = {
  id: string;
  name: string;
  mode: ProfileMode;
  /** `itemKey(kind, connectionName, name)` of every item. */
  items: ReadonlySet<string>;
  /** How many items of each kind each connection has in the profile ("kind\nconnection" → count). */
  counts: ReadonlyMap<string, number>;
};

export type WorkspaceProfiles = { byId: ReadonlyMap<string, ProfileLimit>; byName: ReadonlyMap<string, ProfileLimit> };

export const NO_PROFILES: WorkspaceProfiles = { byId: new Map(), byName: new Map() };

// Connection names have no newline (connections/names.ts); kinds are fixed words.
export function itemKey(kind: ProfileItemKind, connectionName: string, name: string): string {
  return `${kind}\n${connectionName}\n${name}`;
}

export function countKey(kind: ProfileItemKind, connectionName: string): string {
  return `${kind}\n${connectionName}`;
}

export function allowsItem(limit: ProfileLimit, kind: ProfileItemKind, connectionName: string, name: string): boolean {
  return limit.items.has(itemKey(kind, connectionName, name));
}

/** A key or grant limited to a profile that is gone (it cannot be deleted while used, but a race may): it serves nothing. */
export function emptyLimit(id: string): ProfileLimit {
  return { id, name: "(a deleted profile)", mode: "full", items: new Set(), counts: new Map() };
}

const KINDS: readonly ProfileItemKind[] = ["tool", "prompt", "resource", "resource_template"];

/** Whether the profile has any item of this connection. */
export function hasConnection(limit: ProfileLimit, connectionName: string): boolean {
  return KINDS.some((kind) => (limit.counts.get(countKey(kind, connectionName)) ?? 0) > 0);
}
