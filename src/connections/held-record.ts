import { eq } from "drizzle-orm";
import type { Db, Database } from "../db/client.ts";
import { newId } from "../crypto/tokens.ts";
import { appendAuditEvents, type AuditInput } from "../audit/record.ts";
import { describeHeld, type HeldCounts } from "./held.ts";
import type { SyncReport } from "./sync.ts";

/**
 * Tells everyone what a sync held or exposed on its own, inside the sync's transaction: a line in
 * the connection's status history ("2 tools changed upstream — held for review", the status itself
 * unchanged) and one audit entry per item, with the approved and listed hashes. Call it last in the
 * transaction (it appends to the audit chain). Returns whether it recorded anything.
 */
export async function recordSyncReview(
  database: Database,
  tx: Db,
  connection: { id: string; workspaceId: string; name: string },
  reports: readonly (SyncReport | null)[],
  now: number,
): Promise<boolean> {
  const held = reports.flatMap((r) => r?.held ?? []);
  const exposed = reports.flatMap((r) => r?.exposed ?? []);
  if (held.length === 0 && exposed.length === 0) return false;
  const { t } = database;
  if (held.length > 0) {
    const counts: HeldCounts = {
      tools: held.filter((h) => h.kind === "tool").length,
      prompts: held.filter((h) => h.kind === "prompt").length,
      resourceTemplates: held.filter((h) => h.kind === "resource_template").length,
    };
    const [row] = await tx.select({ status: t.connections.status }).from(t.connections).where(eq(t.connections.id, connection.id));
    // The status does not move: a held change is news about the tools, not about the connection's health.
    if (row) await tx.insert(t.statusEvents).values({ id: newId(), connectionId: connection.id, at: now, fromStatus: row.status, toStatus: row.status, reason: `${describeHeld(counts)} — held for review` });
  }
  const target = `connection:${connection.id}`;
  const entries: AuditInput[] = [
    ...held.map((h) => ({ workspaceId: connection.workspaceId, actor: "system", action: `${h.kind}.held`, target, at: now, details: { connection: connection.name, kind: h.kind, name: h.name, approvedHash: h.approvedHash, listedHash: h.listedHash } })),
    // The connection exposes new items at once: an admin's setting, and the trail says what it let in.
    ...exposed.map((e) => ({ workspaceId: connection.workspaceId, actor: "system", action: `${e.kind}.exposed`, target, at: now, details: { connection: connection.name, kind: e.kind, name: e.name, listedHash: e.listedHash, why: "the connection exposes new tools automatically" } })),
  ];
  await appendAuditEvents(database, tx, entries, now);
  return true;
}
