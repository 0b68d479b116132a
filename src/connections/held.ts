/**
 * Held definitions: a tool's (prompt's, resource template's) definition is an instruction to the
 * model, so what agents see is the one an admin approved. When a sync brings a different one for an
 * enabled item, the new one is stored (the dashboard shows it beside the approved one) and the item
 * is held: hidden, or listed as approved with calls refused (the connection's `held_mode`), until an
 * admin approves or rejects the change (review.ts). Every change holds; none is judged cosmetic.
 *
 * The columns: `approved` + `approved_hash` are pinned when a sync first finds an enabled item
 * changed, and null while the stored definition is itself the approved one. Turning an item on
 * approves what it lists then, so existing rows need no backfill: an enabled row without a pin was
 * approved as stored, and the first change pins that stored definition.
 */

export type HeldMode = "hide" | "serve_approved";
export const HELD_MODES: readonly HeldMode[] = ["hide", "serve_approved"];

/** What can be held: resources themselves are data an upstream lists as it likes, never held. */
export type HeldKind = "tool" | "prompt" | "resource_template";
export const HELD_KINDS: readonly HeldKind[] = ["tool", "prompt", "resource_template"];

export function isHeldKind(value: unknown): value is HeldKind {
  return typeof value === "string" && (HELD_KINDS as readonly string[]).includes(value);
}

/** A held mode from a form or a JSON body, or the sentence saying what to send instead. */
export function readHeldMode(value: unknown): HeldMode | { invalid: string } {
  return typeof value === "string" && (HELD_MODES as readonly string[]).includes(value) ? (value as HeldMode) : { invalid: 'heldMode must be "hide" or "serve_approved"' };
}

/** The approval columns of a stored row. */
export type Approval = { approved: unknown; approvedHash: string | null; heldAt: number | null };

/** A stored row as a sync finds it, before it writes the listed definition. */
export type StoredBefore = Approval & { enabled: boolean; hash: string; definition: unknown };

/**
 * The approval columns a sync writes for a row it found listed with `hash`. An enabled row pins its
 * approved definition at the first change and is held while the listed one differs; listed back as
 * approved, the hold clears by itself. A row that is off is not held (nothing of it is served), and
 * keeps any pin it had (a rejected change: see review.ts).
 */
export function approvalAfterSync(before: StoredBefore, hash: string, now: number): Approval {
  if (!before.enabled) return { approved: before.approved, approvedHash: before.approvedHash, heldAt: null };
  const pinned = before.approvedHash === null ? { approved: before.definition, approvedHash: before.hash } : { approved: before.approved, approvedHash: before.approvedHash };
  if (pinned.approvedHash === hash) return { approved: null, approvedHash: null, heldAt: null };
  return { ...pinned, heldAt: before.heldAt ?? now };
}

/** Turning an item on approves what it lists now: no pin, no hold. */
export const APPROVED_AS_LISTED: Approval = { approved: null, approvedHash: null, heldAt: null };

/**
 * What turning an item on or off (when it was the other way) does to its approval: on approves what
 * it lists now; off ends a hold (nothing of it is served) and keeps any pin, as a rejection does.
 */
export function approvalOnTurning(enabled: boolean): Partial<Approval> {
  return enabled ? APPROVED_AS_LISTED : { heldAt: null };
}

/**
 * What the endpoint lists for a stored item: its definition when it is on and not held; when held,
 * nothing ("hide") or the approved definition ("serve_approved"); nothing when it is off.
 */
export function listedWhileHeld<D>(current: D, row: Approval & { enabled: boolean }, mode: HeldMode): D | null {
  if (!row.enabled) return null;
  if (row.heldAt === null) return current;
  return mode === "serve_approved" && row.approved !== null ? (row.approved as D) : null;
}

/** Whether the endpoint refuses the item as held (it is on, and changed since approved). */
export function isHeld(row: { enabled: boolean; heldAt: number | null }): boolean {
  return row.enabled && row.heldAt !== null;
}

/** The sentence a client reads when it calls (gets, reads) a held item. */
export function heldSentence(name: string, connectionName: string): string {
  return `${name} changed upstream and is held until an admin reviews it in the dashboard (Connections → ${connectionName}).`;
}

/** How many of a connection's items are held, per kind. */
export type HeldCounts = { tools: number; prompts: number; resourceTemplates: number };

export const NO_HELD: HeldCounts = { tools: 0, prompts: 0, resourceTemplates: 0 };

export function heldTotal(counts: HeldCounts): number {
  return counts.tools + counts.prompts + counts.resourceTemplates;
}

/** "2 tools and 1 prompt changed upstream", or null when nothing is held. */
export function describeHeld(counts: HeldCounts): string | null {
  const parts = [plural(counts.tools, "tool"), plural(counts.prompts, "prompt"), plural(counts.resourceTemplates, "resource template")].filter((p): p is string => p !== null);
  if (parts.length === 0) return null;
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
  return `${list} changed upstream`;
}

/** For gateway__list_connections: what is held and what an admin does about it. */
export function heldReason(counts: HeldCounts, connectionName: string, mode: HeldMode): string | null {
  const what = describeHeld(counts);
  if (what === null) return null;
  const how = mode === "hide" ? "hidden" : "listed as approved, with calls refused";
  return `${what} and ${heldTotal(counts) === 1 ? "is" : "are"} ${how} until an admin reviews ${heldTotal(counts) === 1 ? "it" : "them"} in the dashboard (Connections → ${connectionName}).`;
}

function plural(count: number, noun: string): string | null {
  if (count === 0) return null;
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
