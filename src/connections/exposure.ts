import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { ToolIndex } from "../gateway/tool-index.ts";
import { recordAudit } from "../audit/record.ts";
import { APPROVED_AS_LISTED } from "./held.ts";

/**
 * What a new connection exposes at the endpoint. A tool's definition is an instruction to the
 * model, so a server just added exposes nothing until an admin has picked its tools, unless the
 * admin asked for every tool when adding. Where nobody said, the answer is "none".
 */
export type Exposure = "all" | "none";

export const EXPOSURES: readonly Exposure[] = ["all", "none"];

export function readExposure(value: unknown): Exposure | { invalid: string } {
  if (value === undefined || value === null) return "none";
  return value === "all" || value === "none" ? value : { invalid: 'expose must be "all" or "none"' };
}

export type PickResult = { ok: true; enabled: string[] } | { ok: false; unknown: string[] } | { ok: false; notFound: true };

/**
 * Saves an admin's pick in one transaction: exactly the named tools are on, the others off. A tool
 * turned on is approved as it lists now; one already on keeps its approval, so a held change is
 * never approved by re-saving a pick (review.ts approves it). Tools the upstream adds later still
 * wait for a pick unless the connection's "expose new tools" setting is on: a pick never turns it on.
 */
export async function saveToolPick(
  deps: { database: Database; toolIndex: ToolIndex },
  workspaceId: string,
  connectionId: string,
  chosen: ReadonlySet<string>,
): Promise<PickResult> {
  const { database } = deps;
  const { t } = database;
  const result = await database.transaction(async (tx): Promise<PickResult> => {
    const [connection] = await tx
      .select({ id: t.connections.id })
      .from(t.connections)
      .where(and(eq(t.connections.id, connectionId), eq(t.connections.workspaceId, workspaceId)));
    if (!connection) return { ok: false, notFound: true };
    const tools = await tx.select({ name: t.tools.name, enabled: t.tools.enabled }).from(t.tools).where(eq(t.tools.connectionId, connectionId));
    const known = new Set(tools.map((tool) => tool.name));
    const unknown = [...chosen].filter((name) => !known.has(name));
    if (unknown.length > 0) return { ok: false, unknown };
    for (const tool of tools) {
      const enabled = chosen.has(tool.name);
      if (enabled === tool.enabled) continue;
      const approval = enabled ? APPROVED_AS_LISTED : { heldAt: null };
      await tx.update(t.tools).set({ enabled, ...approval }).where(and(eq(t.tools.connectionId, connectionId), eq(t.tools.name, tool.name)));
    }
    // A pick reviews every tool: none stays "changed".
    await tx.update(t.tools).set({ changedAt: null }).where(eq(t.tools.connectionId, connectionId));
    const enabled = tools.map((tool) => tool.name).filter((name) => chosen.has(name));
    await recordAudit(database, tx, { workspaceId, action: "tools.picked", target: `connection:${connectionId}`, details: { enabled, disabled: tools.map((tool) => tool.name).filter((name) => !chosen.has(name)) } });
    return { ok: true, enabled };
  });
  if (result.ok) deps.toolIndex.changed(workspaceId);
  return result;
}
