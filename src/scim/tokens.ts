import { noteAuditActor } from "../audit/context.ts";
import { and, desc, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { generateToken, hashToken, newId } from "../crypto/tokens.ts";
import { recordAudit } from "../audit/record.ts";

/** Bearer tokens for the IdP's SCIM client: like API keys, shown once and stored as a hash. */

export const SCIM_TOKEN_PREFIX = "mgw_scim_";
const LAST_USED_GRANULARITY_MS = 60_000;

export type ScimTokenSummary = { id: string; name: string; prefix: string; createdAt: number; lastUsedAt: number | null; revokedAt: number | null };
export type CreateScimTokenResult = { ok: true; id: string; token: string } | { ok: false; errors: Record<string, string> };

export async function createScimToken(database: Database, workspaceId: string, nameInput: string, now = Date.now()): Promise<CreateScimTokenResult> {
  const name = nameInput.trim();
  if (name.length === 0) return { ok: false, errors: { name: "Name the token after the directory that will use it, like Okta." } };
  if (name.length > 64) return { ok: false, errors: { name: "Use at most 64 characters." } };
  const token = SCIM_TOKEN_PREFIX + generateToken(20);
  const id = newId();
  const prefix = token.slice(0, SCIM_TOKEN_PREFIX.length + 6);
  await database.transaction(async (tx) => {
    await tx.insert(database.t.scimTokens).values({ id, workspaceId, name, prefix, secretHash: hashToken(token), createdAt: now });
    await recordAudit(database, tx, { workspaceId, action: "scim_token.created", target: `scim_token:${id}`, details: { name, prefix } });
  });
  return { ok: true, id, token };
}

export async function listScimTokens(database: Database, workspaceId: string): Promise<ScimTokenSummary[]> {
  const s = database.t.scimTokens;
  return database.db
    .select({ id: s.id, name: s.name, prefix: s.prefix, createdAt: s.createdAt, lastUsedAt: s.lastUsedAt, revokedAt: s.revokedAt })
    .from(s)
    .where(eq(s.workspaceId, workspaceId))
    .orderBy(desc(s.createdAt));
}

export async function revokeScimToken(database: Database, workspaceId: string, id: string, now = Date.now()): Promise<boolean> {
  const s = database.t.scimTokens;
  const rows = await database.transaction(async (tx) => {
    const revoked = await tx.update(s).set({ revokedAt: now }).where(and(eq(s.id, id), eq(s.workspaceId, workspaceId), isNull(s.revokedAt))).returning({ id: s.id, name: s.name });
    if (revoked[0]) await recordAudit(database, tx, { workspaceId, action: "scim_token.revoked", target: `scim_token:${id}`, details: { name: revoked[0].name } });
    return revoked;
  });
  return rows.length > 0;
}

/** The workspace a live token belongs to, or null. */
export async function validateScimToken(database: Database, token: string, now = Date.now()): Promise<string | null> {
  if (!token.startsWith(SCIM_TOKEN_PREFIX) || token.length > 200) return null;
  const s = database.t.scimTokens;
  const [row] = await database.db
    .select({ id: s.id, workspaceId: s.workspaceId, lastUsedAt: s.lastUsedAt })
    .from(s)
    .where(and(eq(s.secretHash, hashToken(token)), isNull(s.revokedAt)));
  if (!row) return null;
  noteAuditActor(`scim:${row.id}`); // what this request changes, the directory did
  if (row.lastUsedAt === null || now - row.lastUsedAt > LAST_USED_GRANULARITY_MS) {
    await database.db.update(s).set({ lastUsedAt: now }).where(eq(s.id, row.id));
  }
  return row.workspaceId;
}
