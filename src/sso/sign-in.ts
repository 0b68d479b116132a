import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { Keyring } from "../crypto/encryption.ts";
import { newId } from "../crypto/tokens.ts";
import { normalizeEmail } from "../accounts/accounts.ts";
import { getMemberRole, reactivateUser } from "../accounts/members.ts";
import type { Role } from "../accounts/principal.ts";
import { findIdentity, sealRefreshToken, writeBinding } from "./identities.ts";
import type { IdentityClaims } from "./oidc.ts";
import type { SsoProvider } from "./providers.ts";
import { mapRole, parseRoleMapping, readGroups, type MappedRole } from "./role-mapping.ts";

/** Turns an identity the IdP vouched for into a member of the provider's workspace. */

export type IdentityCheck = { ok: true; email: string; groups: string[]; role: MappedRole } | { ok: false; reason: string };
export type SsoSignInResult = { ok: true; userId: string; workspaceId: string; created: boolean } | { ok: false; reason: string };

/** The page a person sees when their email already belongs to an account they must prove is theirs. */
export const LINK_FROM_ACCOUNT_PAGE =
  "An account with this email address already exists on this gateway. Sign in with your password, then link single sign-on from your account page.";

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
 * Whoever runs the IdP can make it say any email, and an admin chooses the IdP: an email alone
 * proves nothing. A first sign-in may take over only an account the IdP side made (SSO or SCIM)
 * and that has no password — a password account's holder links it themselves, from their account
 * page, after signing in with it — and never the owner's.
 */
function mayLinkByEmail(account: { source: "local" | "sso"; passwordHash: string | null }, role: Role): boolean {
  return account.source === "sso" && account.passwordHash === null && role !== "owner";
}

/**
 * Later sign-ins match by (issuer, subject). A first sign-in links an account with the same email
 * in this workspace only when mayLinkByEmail allows it, or creates a member with the mapped role.
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
  const known = await findIdentity(database, identity);
  if (known && known.workspaceId !== provider.workspaceId) return { ok: false, reason: "This account belongs to another workspace." };

  let userId = known?.userId ?? null;
  if (!userId) {
    const [byEmail] = await database.db.select({ id: t.users.id, source: t.users.source, passwordHash: t.users.passwordHash }).from(t.users).where(eq(t.users.email, check.email));
    if (byEmail) {
      const role = await getMemberRole(database, provider.workspaceId, byEmail.id);
      if (!role) return { ok: false, reason: `An account for ${check.email} exists on this gateway but not in this workspace. Ask an admin.` };
      if (!mayLinkByEmail(byEmail, role)) return { ok: false, reason: LINK_FROM_ACCOUNT_PAGE };
      userId = byEmail.id;
    }
  }

  const [user] = userId ? await database.db.select({ disabledReason: t.users.disabledReason, disabledAt: t.users.disabledAt }).from(t.users).where(eq(t.users.id, userId)) : [];
  // A refused refresh ends access until the IdP vouches again, which it just did; the directory's
  // deactivation stands until the directory lifts it.
  if (user?.disabledAt && user.disabledReason !== "idp") return { ok: false, reason: "Your account on this gateway is deactivated. Ask a workspace admin." };

  const identityId = known?.id ?? newId();
  const sealed = await sealRefreshToken(keyring, identityId, provider.workspaceId, refreshToken);
  const created = userId === null;
  const accountId = userId ?? newId();
  await database.transaction(async (tx) => {
    if (created) {
      await tx.insert(t.users).values({ id: accountId, email: check.email, name: identity.name?.trim() || check.email, passwordHash: null, createdAt: now, source: "sso" });
      await tx.insert(t.memberships).values({ workspaceId: provider.workspaceId, userId: accountId, role: check.role, createdAt: now });
    }
    await writeBinding(tx, t, { identityId, existing: known !== null, userId: accountId, provider, identity, sealed, now });
  });
  if (user?.disabledAt) await reactivateUser(database, accountId);
  return { ok: true, userId: accountId, workspaceId: provider.workspaceId, created };
}
