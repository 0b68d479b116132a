import { and, asc, eq, ne } from "drizzle-orm";
import type { Db, Database } from "../db/client.ts";
import { decryptSecret, encryptSecret, type Keyring, type SecretBinding } from "../crypto/encryption.ts";
import { newId } from "../crypto/tokens.ts";
import type { UpstreamSecret } from "./secret.ts";

/**
 * A member's own credential for a per-member connection, in its own table rather than as a user
 * column on `credentials`: the shared row stays keyed (and AAD-bound) by connection alone, every
 * admin path that touches it is unchanged, and no query for the shared credential can match a
 * member's row by accident. Each ciphertext is bound to its own row id.
 */
export type MemberIds = { connectionId: string; workspaceId: string; userId: string };

function binding(rowId: string, workspaceId: string): SecretBinding {
  return { table: "member_credentials", column: "ciphertext", rowId, workspaceId };
}

async function findRow(database: Database, ids: MemberIds) {
  const { t } = database;
  const [row] = await database.db
    .select()
    .from(t.memberCredentials)
    .where(and(eq(t.memberCredentials.connectionId, ids.connectionId), eq(t.memberCredentials.userId, ids.userId), eq(t.memberCredentials.workspaceId, ids.workspaceId)));
  return row ?? null;
}

/** A member's credential sealed for its row, to be written by `writeMemberCredential` inside a transaction. */
export type SealedMemberCredential = MemberIds & { id: string; kind: UpstreamSecret["kind"]; ciphertext: string; keyVersion: number; expiresAt: number | null; now: number };

/**
 * Seals before any transaction opens (other requests' statements wait for an open one). The
 * ciphertext is bound to the member's current row id, or to a new one.
 */
export async function sealMemberCredential(database: Database, keyring: Keyring, ids: MemberIds, secret: UpstreamSecret, expiresAt: number | null, now = Date.now()): Promise<SealedMemberCredential> {
  const id = (await findRow(database, ids))?.id ?? newId();
  const sealed = await encryptSecret(keyring, JSON.stringify(secret), binding(id, ids.workspaceId));
  return { ...ids, id, kind: secret.kind, ciphertext: sealed.ciphertext, keyVersion: sealed.keyVersion, expiresAt, now };
}

export async function writeMemberCredential(tx: Db, database: Database, sealed: SealedMemberCredential): Promise<void> {
  const { t } = database;
  // The row takes the id its ciphertext is bound to, even if it was replaced since it was sealed.
  const row = { id: sealed.id, kind: sealed.kind, ciphertext: sealed.ciphertext, keyVersion: sealed.keyVersion, expiresAt: sealed.expiresAt, updatedAt: sealed.now };
  const updated = await tx
    .update(t.memberCredentials)
    .set(row)
    .where(and(eq(t.memberCredentials.connectionId, sealed.connectionId), eq(t.memberCredentials.userId, sealed.userId)))
    .returning({ id: t.memberCredentials.id });
  if (updated.length === 0) await tx.insert(t.memberCredentials).values({ ...row, connectionId: sealed.connectionId, userId: sealed.userId, workspaceId: sealed.workspaceId, createdAt: sealed.now });
}

/** The member's decrypted secret, or null when they have not connected. */
export async function loadMemberCredential(database: Database, keyring: Keyring, ids: MemberIds): Promise<UpstreamSecret | null> {
  const row = await findRow(database, ids);
  if (!row) return null;
  return JSON.parse(await decryptSecret(keyring, row.ciphertext, binding(row.id, row.workspaceId))) as UpstreamSecret;
}

export async function deleteMemberCredential(database: Database, ids: MemberIds): Promise<boolean> {
  const { t } = database;
  const removed = await database.db
    .delete(t.memberCredentials)
    .where(and(eq(t.memberCredentials.connectionId, ids.connectionId), eq(t.memberCredentials.userId, ids.userId), eq(t.memberCredentials.workspaceId, ids.workspaceId)))
    .returning({ id: t.memberCredentials.id });
  return removed.length > 0;
}

/**
 * Deletes every member's own credential on a connection (but `except`'s): after its URL moved to
 * another server, each member connects again rather than have their secret sent there.
 */
export async function deleteMemberCredentials(tx: Db, database: Database, ids: { connectionId: string; workspaceId: string }, except: string | null): Promise<void> {
  const { t } = database;
  const scope = and(eq(t.memberCredentials.connectionId, ids.connectionId), eq(t.memberCredentials.workspaceId, ids.workspaceId));
  await tx.delete(t.memberCredentials).where(except ? and(scope, ne(t.memberCredentials.userId, except)) : scope);
}

export type MemberCredentialStatus = { kind: string; connectedAt: number; updatedAt: number; expiresAt: number | null };

/** Whether (and how) a member is connected, without opening the secret. */
export async function memberCredentialStatus(database: Database, ids: MemberIds): Promise<MemberCredentialStatus | null> {
  const row = await findRow(database, ids);
  return row ? { kind: row.kind, connectedAt: row.createdAt, updatedAt: row.updatedAt, expiresAt: row.expiresAt } : null;
}

export async function countConnectedMembers(database: Database, connectionId: string): Promise<number> {
  const { t } = database;
  return (await database.db.select({ id: t.memberCredentials.id }).from(t.memberCredentials).where(eq(t.memberCredentials.connectionId, connectionId))).length;
}

/**
 * Whose credential lists a per-member connection's tools: whoever connected first. Their tool list
 * is the one every member sees (the upstream may show others a different set; calls still go out
 * with each member's own credential).
 */
export async function findDiscoveryMember(database: Database, connectionId: string): Promise<string | null> {
  const { t } = database;
  const [row] = await database.db
    .select({ userId: t.memberCredentials.userId })
    .from(t.memberCredentials)
    .where(eq(t.memberCredentials.connectionId, connectionId))
    .orderBy(asc(t.memberCredentials.createdAt), asc(t.memberCredentials.id))
    .limit(1);
  return row?.userId ?? null;
}
