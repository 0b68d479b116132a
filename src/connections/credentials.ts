import { eq } from "drizzle-orm";
import type { Db, Database } from "../db/client.ts";
import { decryptSecret, encryptSecret, type Keyring, type SecretBinding } from "../crypto/encryption.ts";
import { loadMemberCredential, sealMemberCredential, writeMemberCredential, type SealedMemberCredential } from "./member-credentials.ts";
import { redactorFor } from "./redact.ts";

/** What a connection authenticates upstream with. Never leaves the server. */
export type UpstreamSecret =
  | { kind: "bearer"; token: string }
  | { kind: "header"; header: string; value: string }
  /** An API key the upstream takes inside its URL, in place of `{key}` (Firecrawl does this). */
  | { kind: "url"; key: string }
  | { kind: "oauth"; data: Record<string, unknown> }
  /** Enterprise-managed (ID-JAG): the connection's client at the upstream's AS, or a member's token. */
  | { kind: "id-jag"; data: IdJagData };

/** Shared row: clientId, clientSecret, issuer. A member's row: accessToken, obtainedAt, expiresAt. */
export type IdJagData = { clientId?: string; clientSecret?: string; issuer?: string; accessToken?: string; obtainedAt?: number; expiresAt?: number | null };

/** Where a `url` credential goes in a connection's URL; the stored and displayed URL keep the placeholder. */
export const URL_KEY_PLACEHOLDER = "{key}";
const PLACEHOLDER_FORMS = [URL_KEY_PLACEHOLDER, "%7Bkey%7D", "%7bkey%7d"];

export function hasUrlKeyPlaceholder(url: string): boolean {
  return PLACEHOLDER_FORMS.some((form) => url.includes(form));
}

/** The URL actually requested: the stored URL with a `url` credential put in its place. */
export function upstreamUrl(url: string, secret: UpstreamSecret | null): string {
  if (secret?.kind !== "url") return url;
  let result = url;
  for (const form of PLACEHOLDER_FORMS) result = result.split(form).join(encodeURIComponent(secret.key));
  return result;
}

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

/** Headers that carry a static secret upstream (OAuth tokens go through the SDK's auth provider). */
export function credentialHeaders(secret: UpstreamSecret | null): Record<string, string> {
  if (secret?.kind === "bearer") return { authorization: `Bearer ${secret.token}` };
  if (secret?.kind === "header") return { [secret.header]: secret.value };
  return {};
}

/** Upstreams sometimes echo what they were sent; no stored secret may travel on in an error (see redact.ts). */
export function redactSecret(text: string, secret: UpstreamSecret | null): string {
  return redactorFor(secret).redactText(text);
}
