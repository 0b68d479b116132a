import { and, eq, inArray } from "drizzle-orm";
import type { Database, Db, Tables } from "../db/client.ts";
import { encryptSecret, type Keyring } from "../crypto/encryption.ts";
import type { IdentityClaims } from "./oidc.ts";

/**
 * The bond between an IdP identity (issuer, subject) and a gateway account. Who may be bound is
 * decided by the callers (sign-in.ts, link.ts); this file only keeps the rows consistent.
 */

export type KnownIdentity = { id: string; userId: string; workspaceId: string; providerId: string };
export type LinkedIdentity = { id: string; providerId: string; createdAt: number };

export async function findIdentity(database: Database, identity: { issuer: string; subject: string }): Promise<KnownIdentity | null> {
  const { t } = database;
  const [row] = await database.db
    .select({ id: t.ssoIdentities.id, userId: t.ssoIdentities.userId, workspaceId: t.ssoIdentities.workspaceId, providerId: t.ssoIdentities.providerId })
    .from(t.ssoIdentities)
    .where(and(eq(t.ssoIdentities.issuer, identity.issuer), eq(t.ssoIdentities.subject, identity.subject)));
  return row ?? null;
}

/** The account's identity at the provider, if it has one. */
export async function findLinkedIdentity(database: Database, userId: string, providerId: string): Promise<LinkedIdentity | null> {
  const { t } = database;
  const [row] = await database.db
    .select({ id: t.ssoIdentities.id, providerId: t.ssoIdentities.providerId, createdAt: t.ssoIdentities.createdAt })
    .from(t.ssoIdentities)
    .where(and(eq(t.ssoIdentities.userId, userId), eq(t.ssoIdentities.providerId, providerId)))
    .limit(1);
  return row ?? null;
}

/** The refresh token sealed to the identity's row, before any transaction opens. */
export async function sealRefreshToken(keyring: Keyring, identityId: string, workspaceId: string, refreshToken: string | null): Promise<{ ciphertext: string; keyVersion: number } | null> {
  if (!refreshToken) return null;
  return encryptSecret(keyring, refreshToken, { table: "sso_refresh_tokens", column: "ciphertext", rowId: identityId, workspaceId });
}

export type Binding = {
  /** The identity's row when it is already bound (a returning sign-in), else a new id is inserted. */
  identityId: string;
  existing: boolean;
  userId: string;
  /** The provider that vouched for it (only which one, and whose). */
  provider: { id: string; workspaceId: string };
  identity: IdentityClaims;
  sealed: { ciphertext: string; keyVersion: number } | null;
  now: number;
};

/** Inside the caller's transaction: the identity row, validated now, with its fresh refresh token. */
export async function writeBinding(tx: Db, t: Tables, binding: Binding): Promise<void> {
  const { identityId, provider, now } = binding;
  if (binding.existing) await tx.update(t.ssoIdentities).set({ validatedAt: now }).where(eq(t.ssoIdentities.id, identityId));
  else {
    await tx.insert(t.ssoIdentities).values({
      id: identityId,
      workspaceId: provider.workspaceId,
      userId: binding.userId,
      providerId: provider.id,
      issuer: binding.identity.issuer,
      subject: binding.identity.subject,
      validatedAt: now,
      createdAt: now,
    });
  }
  // Without a fresh refresh token an old one is stale: the member is then not re-checked.
  await tx.delete(t.ssoRefreshTokens).where(eq(t.ssoRefreshTokens.identityId, identityId));
  if (binding.sealed) {
    await tx.insert(t.ssoRefreshTokens).values({ identityId, workspaceId: provider.workspaceId, ciphertext: binding.sealed.ciphertext, keyVersion: binding.sealed.keyVersion, updatedAt: now });
  }
}

/** Removes identities (their refresh tokens first: the row is what vouches for the member at the IdP). */
async function deleteIdentities(tx: Db, t: Tables, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.delete(t.ssoRefreshTokens).where(inArray(t.ssoRefreshTokens.identityId, ids));
  await tx.delete(t.ssoIdentities).where(inArray(t.ssoIdentities.id, ids));
}

/**
 * A provider that now points elsewhere (another issuer or client) vouches for nobody it vouched for
 * before: every identity bound to it goes, and so do sign-ins still on their way through the old one.
 */
export async function unlinkProviderIdentities(tx: Db, t: Tables, providerId: string): Promise<number> {
  const rows = await tx.select({ id: t.ssoIdentities.id }).from(t.ssoIdentities).where(eq(t.ssoIdentities.providerId, providerId));
  await deleteIdentities(tx, t, rows.map((row) => row.id));
  await tx.delete(t.ssoFlows).where(eq(t.ssoFlows.providerId, providerId));
  return rows.length;
}

/** The member's own choice, from their account page. */
export async function unlinkUserIdentities(database: Database, workspaceId: string, userId: string): Promise<number> {
  const { t } = database;
  return database.transaction(async (tx) => {
    const rows = await tx.select({ id: t.ssoIdentities.id }).from(t.ssoIdentities).where(and(eq(t.ssoIdentities.userId, userId), eq(t.ssoIdentities.workspaceId, workspaceId)));
    await deleteIdentities(tx, t, rows.map((row) => row.id));
    return rows.length;
  });
}
