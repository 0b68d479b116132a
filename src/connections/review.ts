import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { Db, Database } from "../db/client.ts";
import type { ToolIndex } from "../gateway/tool-index.ts";
import { recordAudit } from "../audit/record.ts";
import { APPROVED_AS_LISTED, isHeldKind, readHeldMode, type HeldKind, type HeldMode } from "./held.ts";
import { toolDefinitionOf } from "./tool-defs.ts";

/**
 * An admin's review of held changes (held.ts): what is held on a connection, approving a change
 * (the listed definition becomes the approved one and is served), rejecting it (the item is turned
 * off, its approved definition kept; turning it on later approves what it lists then), and the
 * connection's settings for held and new items. New tools are approved by picking them (exposure.ts).
 */

export type ReviewDeps = { database: Database; toolIndex: ToolIndex };

/** One held item, as the review screen shows it side by side. */
export type HeldItem = {
  kind: HeldKind;
  /** The upstream's own name (tools, prompts) or URI template. */
  name: string;
  /** A ToolDefinition for tools; the upstream's object for prompts and templates. */
  approved: unknown;
  current: unknown;
  approvedHash: string;
  currentHash: string;
  heldAt: number;
};

/** `error`: a sentence for the admin; `reason` for code that branches on it. */
export type ReviewResult = { ok: true } | { ok: false; notFound: true } | { ok: false; reason: "not_held" | "changed_again"; error: string };

export type SettingsResult = { ok: true } | { ok: false; notFound: true } | { ok: false; invalid: string };

/** The connection's held items, tools first, each kind by name; empty for a connection of another workspace. */
export async function listHeld(database: Database, workspaceId: string, connectionId: string): Promise<HeldItem[]> {
  const { t } = database;
  if (!(await connectionInWorkspace(database, database.db, workspaceId, connectionId))) return [];
  const tools = await database.db
    .select()
    .from(t.tools)
    .where(and(eq(t.tools.connectionId, connectionId), eq(t.tools.enabled, true), isNotNull(t.tools.heldAt)));
  const items = await database.db
    .select()
    .from(t.connectionItems)
    .where(and(eq(t.connectionItems.connectionId, connectionId), eq(t.connectionItems.enabled, true), isNotNull(t.connectionItems.heldAt)));
  const held: HeldItem[] = [];
  for (const row of tools.toSorted((a, b) => compare(a.name, b.name))) {
    if (row.approvedHash === null || row.heldAt === null) continue;
    held.push({ kind: "tool", name: row.name, approved: row.approved, current: toolDefinitionOf(row), approvedHash: row.approvedHash, currentHash: row.definitionHash, heldAt: row.heldAt });
  }
  for (const row of items.toSorted((a, b) => compare(a.kind, b.kind) || compare(a.name, b.name))) {
    if (row.kind === "resource" || row.approvedHash === null || row.heldAt === null) continue;
    held.push({ kind: row.kind, name: row.name, approved: row.approved, current: row.definition, approvedHash: row.approvedHash, currentHash: row.definitionHash, heldAt: row.heldAt });
  }
  return held;
}

/**
 * Approves the definition the admin saw (`expectedHash`, HeldItem.currentHash): it becomes the
 * approved one and is served at once. Refused when the upstream changed it again since: the admin
 * reloads and reviews what it lists now.
 */
export async function approveChange(deps: ReviewDeps, actor: string, workspaceId: string, connectionId: string, kind: HeldKind, name: string, expectedHash: string): Promise<ReviewResult> {
  return review(deps, actor, workspaceId, connectionId, kind, name, { verdict: "approved", expectedHash });
}

/**
 * Rejects a held change: the item is turned off (not listed, calls refused as turned off), its
 * approved definition kept for the record, and no longer held. Turning it on later approves what
 * the upstream lists then, as turning on any tool does. Rejecting is safe whatever the upstream
 * did meanwhile, so it needs no hash.
 */
export async function rejectChange(deps: ReviewDeps, actor: string, workspaceId: string, connectionId: string, kind: HeldKind, name: string): Promise<ReviewResult> {
  return review(deps, actor, workspaceId, connectionId, kind, name, { verdict: "rejected" });
}

/** Sets what the endpoint does with held items, and whether new ones come in on (both audited). */
export async function setReviewSettings(
  deps: ReviewDeps,
  actor: string,
  workspaceId: string,
  connectionId: string,
  settings: { heldMode?: HeldMode; exposeNewTools?: boolean },
): Promise<SettingsResult> {
  const { database } = deps;
  const { t } = database;
  const result = await database.transaction(async (tx): Promise<SettingsResult> => {
    const connection = await connectionInWorkspace(database, tx, workspaceId, connectionId);
    if (!connection) return { ok: false, notFound: true };
    if (settings.heldMode !== undefined && typeof readHeldMode(settings.heldMode) !== "string") return { ok: false, invalid: 'heldMode must be "hide" or "serve_approved"' };
    if (settings.exposeNewTools !== undefined && typeof settings.exposeNewTools !== "boolean") return { ok: false, invalid: "exposeNewTools must be true or false" };
    const changes = {
      ...(settings.heldMode !== undefined ? { heldMode: settings.heldMode } : {}),
      ...(settings.exposeNewTools !== undefined ? { exposeNewTools: settings.exposeNewTools } : {}),
    };
    if (Object.keys(changes).length === 0) return { ok: true };
    await tx.update(t.connections).set(changes).where(eq(t.connections.id, connectionId));
    await recordAudit(database, tx, { workspaceId, actor, action: "connection.review_settings_changed", target: `connection:${connectionId}`, details: { connection: connection.name, ...changes } });
    return { ok: true };
  });
  if (result.ok) deps.toolIndex.changed(workspaceId);
  return result;
}

type Verdict = { verdict: "approved"; expectedHash: string } | { verdict: "rejected" };

async function review(deps: ReviewDeps, actor: string, workspaceId: string, connectionId: string, kind: HeldKind, name: string, verdict: Verdict): Promise<ReviewResult> {
  const { database } = deps;
  const { t } = database;
  // A kind that cannot be held (from a hand-made request) names nothing to review.
  if (!isHeldKind(kind)) return { ok: false, notFound: true };
  const result = await database.transaction(async (tx): Promise<ReviewResult> => {
    const connection = await connectionInWorkspace(database, tx, workspaceId, connectionId);
    if (!connection) return { ok: false, notFound: true };
    const row = await heldRow(database, tx, connectionId, kind, name);
    if (!row) return { ok: false, notFound: true };
    if (!row.enabled || row.heldAt === null || row.approvedHash === null) {
      return { ok: false, reason: "not_held", error: `${name} is not held for review any more: reload the connection's page to see where it stands.` };
    }
    if (verdict.verdict === "approved" && row.definitionHash !== verdict.expectedHash) {
      return { ok: false, reason: "changed_again", error: `${name} changed upstream again since you opened the review: reload, and review what it lists now.` };
    }
    const set = verdict.verdict === "approved" ? APPROVED_AS_LISTED : { enabled: false, heldAt: null };
    if (kind === "tool") {
      await tx.update(t.tools).set({ ...set, changedAt: null }).where(and(eq(t.tools.connectionId, connectionId), eq(t.tools.name, name)));
    } else {
      await tx.update(t.connectionItems).set(set).where(and(eq(t.connectionItems.connectionId, connectionId), eq(t.connectionItems.kind, kind), eq(t.connectionItems.name, name)));
    }
    await recordAudit(database, tx, {
      workspaceId,
      actor,
      action: `${kind}.${verdict.verdict}`,
      target: `connection:${connectionId}`,
      details: { connection: connection.name, kind, name, approvedHash: row.approvedHash, listedHash: row.definitionHash },
    });
    return { ok: true };
  });
  if (result.ok) deps.toolIndex.changed(workspaceId);
  return result;
}

type HeldRow = { enabled: boolean; heldAt: number | null; approvedHash: string | null; definitionHash: string };

/**
 * The row, locked until the transaction ends: the first statement is an UPDATE (as status.ts's
 * transitionConnection does), so on Postgres a sync storing a newer definition waits for this
 * review, or this review sees the newer hash — an approval never lands on a definition nobody saw.
 */
async function heldRow(database: Database, tx: Db, connectionId: string, kind: HeldKind, name: string): Promise<HeldRow | null> {
  const { t } = database;
  if (kind === "tool") {
    const [row] = await tx
      .update(t.tools)
      .set({ heldAt: sql`${t.tools.heldAt}` })
      .where(and(eq(t.tools.connectionId, connectionId), eq(t.tools.name, name)))
      .returning({ enabled: t.tools.enabled, heldAt: t.tools.heldAt, approvedHash: t.tools.approvedHash, definitionHash: t.tools.definitionHash });
    return row ?? null;
  }
  const [row] = await tx
    .update(t.connectionItems)
    .set({ heldAt: sql`${t.connectionItems.heldAt}` })
    .where(and(eq(t.connectionItems.connectionId, connectionId), eq(t.connectionItems.kind, kind), eq(t.connectionItems.name, name)))
    .returning({ enabled: t.connectionItems.enabled, heldAt: t.connectionItems.heldAt, approvedHash: t.connectionItems.approvedHash, definitionHash: t.connectionItems.definitionHash });
  return row ?? null;
}

async function connectionInWorkspace(database: Database, tx: Db, workspaceId: string, connectionId: string): Promise<{ name: string } | null> {
  const { t } = database;
  const [row] = await tx
    .select({ name: t.connections.name })
    .from(t.connections)
    .where(and(eq(t.connections.id, connectionId), eq(t.connections.workspaceId, workspaceId)));
  return row ?? null;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
