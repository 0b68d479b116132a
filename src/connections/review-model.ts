import { and, eq, isNotNull, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { AppDeps } from "../deps.ts";
import { diffDefinitions, ITEM_FIELDS, TOOL_FIELDS, type FieldDiff } from "./definition-diff.ts";
import { HELD_KINDS, type HeldKind, type HeldMode } from "./held.ts";
import { listHeld, type HeldItem } from "./review.ts";
import { listConnectionTools } from "./tools.ts";
import { listConnectionItems } from "./items.ts";
import { sha256 } from "@oslojs/crypto/sha2";
import { encodeHexLowerCase } from "@oslojs/encoding";
import type { ConnectionMeta } from "./types.ts";

/**
 * What the review section shows (views/connection-review.tsx), built from review.ts's held items:
 * each with its field-by-field diff and the key its forms post back; the tools that are new and off;
 * and the connection's settings.
 */

/** One held tool, prompt or template, with what the admin sees and posts back. */
export type HeldEntry = {
  kind: HeldKind;
  /** The upstream's name (or URI template): shown, never put in a form (see `key`). */
  name: string;
  exposedName: string;
  /** Names it in the forms without its untrusted characters (browsers rewrite line breaks in posted values). */
  key: string;
  /** The hash of the definition shown on the right: approving approves exactly that one. */
  hash: string;
  approvedHash: string;
  heldAt: number;
  diffs: FieldDiff[];
};

/** A tool the upstream listed at a re-sync and nobody has turned on or off since: not exposed until picked. */
export type NewEntry = { name: string; exposedName: string; description: string | null };

export type ReviewSettings = { heldMode: HeldMode; exposeNewTools: boolean };

export type ReviewModel = { held: HeldEntry[]; fresh: NewEntry[]; settings: ReviewSettings };

type ModelDeps = Pick<AppDeps, "database" | "toolIndex" | "itemIndex">;

/** The key a review form posts for an item: its kind and a hash of its name. */
export function heldKey(kind: HeldKind, name: string): string {
  return `${kind}:${encodeHexLowerCase(sha256(new TextEncoder().encode(name))).slice(0, 24)}`;
}

export async function loadReview(deps: ModelDeps, workspaceId: string, connection: ConnectionMeta): Promise<ReviewModel> {
  const held = await listHeld(deps.database, workspaceId, connection.id);
  const tools = await listConnectionTools(deps, workspaceId, connection.id);
  const items = await listConnectionItems(deps, workspaceId, connection.name);
  const toolNames = new Map(tools.map((tool) => [tool.name, tool.exposedName]));
  const itemNames = new Map(items.map((item) => [`${item.kind}:${item.name}`, item.exposedName]));
  const exposed = (item: HeldItem): string => (item.kind === "tool" ? toolNames.get(item.name) : itemNames.get(`${item.kind}:${item.name}`)) ?? item.name;
  const fresh = await newToolNames(deps.database, connection.id);
  return {
    held: held.map((item) => ({
      kind: item.kind,
      name: item.name,
      exposedName: exposed(item),
      key: heldKey(item.kind, item.name),
      hash: item.currentHash,
      approvedHash: item.approvedHash,
      heldAt: item.heldAt,
      diffs: diffDefinitions(asRecord(item.approved), asRecord(item.current) ?? {}, item.kind === "tool" ? TOOL_FIELDS : ITEM_FIELDS),
    })),
    fresh: tools.filter((tool) => fresh.has(tool.name)).map((tool) => ({ name: tool.name, exposedName: tool.exposedName, description: tool.description })),
    settings: { heldMode: connection.heldMode, exposeNewTools: connection.exposeNewTools },
  };
}

/** The names of the connection's held tools, for their badge in the tool list's fragments. */
export async function listHeldToolNames(database: Database, workspaceId: string, connectionId: string): Promise<Set<string>> {
  return new Set((await listHeld(database, workspaceId, connectionId)).filter((item) => item.kind === "tool").map((item) => item.name));
}

/** The held item a review form named, found among those held now; null when it is not held any more. */
export async function findHeld(database: Database, workspaceId: string, connectionId: string, key: string): Promise<HeldItem | null> {
  const kind = HELD_KINDS.find((k) => key.startsWith(`${k}:`));
  if (!kind) return null;
  const held = await listHeld(database, workspaceId, connectionId);
  return held.find((item) => heldKey(item.kind, item.name) === key) ?? null;
}

/**
 * Tools listed at a re-sync that are off and were never approved: new, waiting for a pick. A tool
 * an admin turned off, or whose change was rejected, has no `changed_at` and is not "new".
 */
async function newToolNames(database: Database, connectionId: string): Promise<Set<string>> {
  const { t } = database;
  const rows = await database.db
    .select({ name: t.tools.name })
    .from(t.tools)
    .where(and(eq(t.tools.connectionId, connectionId), eq(t.tools.enabled, false), isNotNull(t.tools.changedAt), isNull(t.tools.approvedHash)));
  return new Set(rows.map((row) => row.name));
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
