import { eq } from "drizzle-orm";
import type { Db, Database } from "../db/client.ts";
import { decryptSecret, encryptSecret, type Keyring, type SecretBinding } from "../crypto/encryption.ts";
import { loadMemberCredential, sealMemberCredential, writeMemberCredential, type SealedMemberCredential } from "./member-credentials.ts";
import type { UpstreamSecret } from "./secret.ts";

/** Whose credential: the connection's shared one, or (with `userId`) that member's own. */
export type CredentialIds = { connectionId: string; workspaceId: string; userId?: string | null };

function binding(connectionId: string, workspaceId: string): SecretBinding {
  return { table: "credentials", column: "ciphertext", rowId: connectionId, workspaceId };
}

/** A credential sealed for its row: sealing is slow async work, so it happens before the transaction. */
export type SealedCredential =
  | { member: null; connectionId: string; workspaceId: string; kind: UpstreamSecret["kind"]; ciphertext: string; keyVersion: number; expiresAt: number | null; updatedAt: number }
  | { member: SealedMemberCredential };

export async function sealCredential(
  database: Database,
  keyring: Keyring,
  ids: CredentialIds,
  secret: UpstreamSecret,
  expiresAt: number | null = null,
  now = Date.now(),
): Promise<SealedCredential> {
  if (ids.userId) return { member: await sealMemberCredential(database, keyring, { ...ids, userId: ids.userId }, secret, expiresAt, now) };
  const sealed = await encryptSecret(keyring, JSON.stringify(secret), binding(ids.connectionId, ids.workspaceId));
  return { member: null, connectionId: ids.connectionId, workspaceId: ids.workspaceId, kind: secret.kind, ciphertext: sealed.ciphertext, keyVersion: sealed.keyVersion, expiresAt, updatedAt: now };
}

/** Writes a sealed credential; inside a transaction it runs no async work but the statements. */
export async function writeCredential(tx: Db, database: Database, sealed: SealedCredential): Promise<void> {
  if (sealed.member) return writeMemberCredential(tx, database, sealed.member);
  const { member: _, connectionId, workspaceId, ...row } = sealed;
  await tx
    .insert(database.t.credentials)
    .values({ connectionId, workspaceId, ...row })
    .onConflictDoUpdate({ target: database.t.credentials.connectionId, set: row });
}

/** Seals, then writes in a transaction of its own. */
export async function storeCredential(
  database: Database,
  keyring: Keyring,
  ids: CredentialIds,
  secret: UpstreamSecret,
  expiresAt: number | null = null,
  now = Date.now(),
): Promise<void> {
  const sealed = await sealCredential(database, keyring, ids, secret, expiresAt, now);
  await database.transaction((tx) => writeCredential(tx, database, sealed));
}

/** The decrypted secret, or null when the connection (or member) has none. Throws DecryptionError on a bad key. */
export async function loadCredential(
  database: Database,
  keyring: Keyring,
  ids: CredentialIds,
): Promise<UpstreamSecret | null> {
  if (ids.userId) return loadMemberCredential(database, keyring, { ...ids, userId: ids.userId });
  const [row] = await database.db.select().from(database.t.credentials).where(eq(database.t.credentials.connectionId, ids.connectionId));
  if (!row || row.workspaceId !== ids.workspaceId) return null;
  return JSON.parse(await decryptSecret(keyring, row.ciphertext, binding(ids.connectionId, ids.workspaceId))) as UpstreamSecret;
}

export async function deleteCredential(tx: Db, database: Database, connectionId: string): Promise<void> {
  await tx.delete(database.t.credentials).where(eq(database.t.credentials.connectionId, connectionId));
}
