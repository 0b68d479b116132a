import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { countKey, itemKey, type ProfileLimit, type WorkspaceProfiles } from "./limit.ts";

/**
 * The workspace's profiles as the gateway enforces them, read with the tool index (tool-index.ts)
 * so that they change together: `connectionNames` maps the index's connection ids to their names.
 */
export async function loadProfiles(database: Database, workspaceId: string, connectionNames: ReadonlyMap<string, string>): Promise<WorkspaceProfiles> {
  const { t } = database;
  const profiles = await database.db.select().from(t.profiles).where(eq(t.profiles.workspaceId, workspaceId));
  if (profiles.length === 0) return { byId: new Map(), byName: new Map() };
  const rows = await database.db
    .select({ profileId: t.profileItems.profileId, connectionId: t.profileItems.connectionId, kind: t.profileItems.kind, name: t.profileItems.name })
    .from(t.profileItems)
    .innerJoin(t.profiles, eq(t.profiles.id, t.profileItems.profileId))
    .where(eq(t.profiles.workspaceId, workspaceId));
  const built = new Map<string, { items: Set<string>; counts: Map<string, number> }>(profiles.map((p) => [p.id, { items: new Set(), counts: new Map() }]));
  for (const row of rows) {
    const connectionName = connectionNames.get(row.connectionId);
    const own = built.get(row.profileId);
    // An item of another workspace's connection (never written so) names nothing here.
    if (connectionName === undefined || !own) continue;
    own.items.add(itemKey(row.kind, connectionName, row.name));
    const counted = countKey(row.kind, connectionName);
    own.counts.set(counted, (own.counts.get(counted) ?? 0) + 1);
  }
  const byId = new Map<string, ProfileLimit>();
  const byName = new Map<string, ProfileLimit>();
  for (const p of profiles) {
    const own = built.get(p.id) as { items: Set<string>; counts: Map<string, number> };
    const limit: ProfileLimit = { id: p.id, name: p.name, mode: p.mode, items: own.items, counts: own.counts };
    byId.set(p.id, limit);
    byName.set(p.name, limit);
  }
  return { byId, byName };
}
