import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { Keyring } from "../crypto/encryption.ts";
import { newId } from "../crypto/tokens.ts";
import { findIdentity, findLinkedIdentity, sealRefreshToken, writeBinding } from "./identities.ts";
import type { IdentityClaims } from "./oidc.ts";
import type { SsoProvider } from "./providers.ts";
import { checkIdentity } from "./sign-in.ts";

/**
 * A signed-in member binds the identity the IdP just returned to their own account: they proved the
 * account by being signed in to it (a session, checked by the caller against the flow's user) and
 * the identity by signing in at the IdP. This is how a password account — the owner's included —
 * gets SSO; a first sign-in never links one by email.
 */

export type LinkResult = { ok: true; email: string } | { ok: false; status: number; reason: string };

export async function linkSsoIdentity(
  deps: { database: Database; keyring: Keyring },
  provider: SsoProvider,
  userId: string,
  identity: IdentityClaims,
  refreshToken: string | null,
  now = Date.now(),
): Promise<LinkResult> {
  const check = checkIdentity(provider, identity);
  if (!check.ok) return { ok: false, status: 403, reason: check.reason };
  const { database, keyring } = deps;
  const { t } = database;
  const known = await findIdentity(database, identity);
  if (known && known.userId !== userId) {
    return { ok: false, status: 409, reason: `This ${provider.name} sign-in is already linked to another account on this gateway.` };
  }
  // One identity per account at a provider: linking another replaces it.
  const previous = known ? null : await findLinkedIdentity(database, userId, provider.id);
  const identityId = known?.id ?? newId();
  const sealed = await sealRefreshToken(keyring, identityId, provider.workspaceId, refreshToken);
  await database.transaction(async (tx) => {
    if (previous) {
      await tx.delete(t.ssoRefreshTokens).where(eq(t.ssoRefreshTokens.identityId, previous.id));
      await tx.delete(t.ssoIdentities).where(eq(t.ssoIdentities.id, previous.id));
    }
    await writeBinding(tx, t, { identityId, existing: known !== null, userId, provider, identity, sealed, now });
  });
  return { ok: true, email: check.email };
}
