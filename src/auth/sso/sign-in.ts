import { and, eq } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { encryptSecret, type Keyring } from "../../crypto/encryption.ts";
import { newId } from "../../crypto/tokens.ts";
import { normalizeEmail } from "../accounts.ts";
import { getMemberRole, reactivateUser } from "../members.ts";
import type { IdentityClaims } from "./oidc.ts";
import type { SsoProvider } from "./providers.ts";
import { mapRole, parseRoleMapping, readGroups, type MappedRole } from "./role-mapping.ts";

/** Turns an identity the IdP vouched for into a member of the provider's workspace. */

export type IdentityCheck = { ok: true; email: string; groups: string[]; role: MappedRole } | { ok: false; reason: string };
export type SsoSignInResult = { ok: true; userId: string; workspaceId: string; created: boolean } | { ok: false; reason: string };

/** The provider's rules: an email, not marked unverified, in the allowed domain. */
export function checkIdentity(provider: SsoProvider, identity: IdentityClaims): IdentityCheck {
  if (!identity.email) return { ok: false, reason: "The identity provider did not send an email address for this account, so the gateway cannot tell who it is." };
  const email = normalizeEmail(identity.email);
  if (identity.emailVerified === false) return { ok: false, reason: `The identity provider says ${email} is not verified. Verify it there, then sign in again.` };
  const domain = email.slice(email.lastIndexOf("@") + 1);
  if (provider.allowedDomain && domain !== provider.allowedDomain) {
    return { ok: false, reason: `Only ${provider.allowedDomain} accounts can sign in to this gateway; ${email} is not one.` };
  }
  const mapping = parseRoleMapping(provider.roleMapping);
  const groups = readGroups(identity.claims, provider.groupsClaim);
  return { ok: true, email, groups, role: mapping.ok ? mapRole(mapping.mapping, groups) : "member" };
}

/**
 * Later sign-ins match by (issuer, subject). A first sign-in links the account with the same email
 * in this workspace (made by SCIM, or a local account), or creates a member with the mapped role.
 */
export async function signInWithSso(
  deps: { database: Database; keyring: Keyring },
  provider: SsoProvider,
  identity: IdentityClaims,
  refreshToken: string | null,
  now = Date.now(),
): Promise<SsoSignInResult> {
  const check = checkIdentity(provider, identity);
  if (!check.ok) return check;
  const { database, keyring } = deps;
  const { t } = database;
  const [known] = await database.db
    .select({ id: t.ssoIdentities.id, userId: t.ssoIdentities.userId, workspaceId: t.ssoIdentities.workspaceId })
    .from(t.ssoIdentities)
    .where(and(eq(t.ssoIdentities.issuer, identity.issuer), eq(t.ssoIdentities.subject, identity.subject)));
  if (known && known.workspaceId !== provider.workspaceId) return { ok: false, reason: "This account belongs to another workspace." };

  let userId = known?.userId ?? null;
  let created = false;
  if (!userId) {
    const [byEmail] = await database.db.select({ id: t.users.id }).from(t.users).where(eq(t.users.email, check.email));
    if (byEmail && !(await getMemberRole(database, provider.workspaceId, byEmail.id))) {
      return { ok: false, reason: `An account for ${check.email} exists on this gateway but not in this workspace. Ask an admin.` };
    }
    userId = byEmail?.id ?? null;
  }

  const [user] = userId ? await database.db.select({ disabledReason: t.users.disabledReason, disabledAt: t.users.disabledAt }).from(t.users).where(eq(t.users.id, userId)) : [];
  // A refused refresh ends access until the IdP vouches again, which it just did; the directory's
  // deactivation stands until the directory lifts it.
  if (user?.disabledAt && user.disabledReason !== "idp") return { ok: false, reason: "Your account on this gateway is deactivated. Ask a workspace admin." };

  const identityId = known?.id ?? newId();
  const sealed = refreshToken
    ? await encryptSecret(keyring, refreshToken, { table: "sso_refresh_tokens", column: "ciphertext", rowId: identityId, workspaceId: provider.workspaceId })
    : null;

  await database.transaction(async (tx) => {
    if (!userId) {
      userId = newId();
      created = true;
      await tx.insert(t.users).values({ id: userId, email: check.email, name: identity.name?.trim() || check.email, passwordHash: null, createdAt: now, source: "sso" });
      await tx.insert(t.memberships).values({ workspaceId: provider.workspaceId, userId, role: check.role, createdAt: now });
    }
    if (known) await tx.update(t.ssoIdentities).set({ validatedAt: now }).where(eq(t.ssoIdentities.id, identityId));
    else {
      await tx.insert(t.ssoIdentities).values({
        id: identityId,
        workspaceId: provider.workspaceId,
        userId,
        providerId: provider.id,
        issuer: identity.issuer,
        subject: identity.subject,
        validatedAt: now,
        createdAt: now,
      });
    }
    // Without a fresh refresh token an old one is stale: the member is then not re-checked.
    await tx.delete(t.ssoRefreshTokens).where(eq(t.ssoRefreshTokens.identityId, identityId));
    if (sealed) {
      await tx.insert(t.ssoRefreshTokens).values({ identityId, workspaceId: provider.workspaceId, ciphertext: sealed.ciphertext, keyVersion: sealed.keyVersion, updatedAt: now });
    }
  });
  if (user?.disabledAt) await reactivateUser(database, userId!);
  return { ok: true, userId: userId!, workspaceId: provider.workspaceId, created };
}
