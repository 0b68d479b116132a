import { and, eq, lte, sql } from "drizzle-orm";
import { decryptSecret, encryptSecret, type SecretBinding } from "../crypto/encryption.ts";
import type { Logger } from "../log.ts";
import { deactivateUser, getMemberRole } from "../accounts/members.ts";
import { refreshMember } from "./oidc.ts";
import { withIdentityLock } from "./refresh-lock.ts";
import { getSsoProviderById, loadSsoClient, type SsoDeps } from "./providers.ts";
import { preparedOnce } from "../db/client.ts";
import { systemClock, type Clock } from "../clock.ts";

/**
 * Without SCIM the gateway learns that someone left only by asking the IdP: at most every
 * SSO_REVALIDATE_SECONDS, a member's session or API key use spends their refresh token. A refusal
 * (invalid_grant) ends their access like a SCIM deactivation; an unreachable IdP does not.
 */

/** `clock` is the serving gateway's (tests move it forward); the system clock without one. */
export type RevalidateDeps = SsoDeps & { log: Logger; clock?: Clock };

function binding(identityId: string, workspaceId: string): SecretBinding {
  return { table: "sso_refresh_tokens", column: "ciphertext", rowId: identityId, workspaceId };
}

type DueIdentity = { id: string; workspaceId: string; providerId: string; validatedAt: number };

// Asked on every authenticated request.
const dueIdentities = preparedOnce((database: RevalidateDeps["database"]) => {
  const { t } = database;
  return database.db
    .select({
      id: t.ssoIdentities.id,
      workspaceId: t.ssoIdentities.workspaceId,
      providerId: t.ssoIdentities.providerId,
      validatedAt: t.ssoIdentities.validatedAt,
    })
    .from(t.ssoIdentities)
    .innerJoin(t.ssoRefreshTokens, eq(t.ssoRefreshTokens.identityId, t.ssoIdentities.id))
    .where(and(eq(t.ssoIdentities.userId, sql.placeholder("userId")), lte(t.ssoIdentities.validatedAt, sql.placeholder("before"))))
    .prepare();
});

/** False when the IdP refused and the member's access was just ended. */
export async function revalidateSsoMember(deps: RevalidateDeps, userId: string, now = (deps.clock ?? systemClock)()): Promise<boolean> {
  const { database, keyring, log } = deps;
  const { t } = database;
  const due = (await dueIdentities(database).execute({ userId, before: now - deps.config.ssoRevalidateSeconds * 1000 })) as DueIdentity[];

  for (const identity of due) {
    // Claim the check, so concurrent requests (and replicas) spend a rotating refresh token once.
    const claimed = await database.db
      .update(t.ssoIdentities)
      .set({ validatedAt: now })
      .where(and(eq(t.ssoIdentities.id, identity.id), eq(t.ssoIdentities.validatedAt, identity.validatedAt)))
      .returning({ id: t.ssoIdentities.id });
    if (claimed.length === 0) continue;

    const provider = await getSsoProviderById(database, identity.providerId);
    if (provider?.status !== "active") continue;
    const oidc = await loadSsoClient(deps, provider);
    if (!oidc.ok) {
      log.warn("sso revalidation skipped: provider unavailable", { userId, reason: oidc.detail });
      continue;
    }
    // Under the identity's lock and re-read: an ID-JAG exchange may have just rotated the token.
    const outcome = await withIdentityLock(database, identity.id, async () => {
      const [current] = await database.db.select({ ciphertext: t.ssoRefreshTokens.ciphertext }).from(t.ssoRefreshTokens).where(eq(t.ssoRefreshTokens.identityId, identity.id));
      if (!current) return null;
      const refreshToken = await decryptSecret(keyring, current.ciphertext, binding(identity.id, identity.workspaceId));
      const refreshed = await refreshMember(oidc.client, refreshToken);
      if (refreshed.ok && refreshed.refreshToken !== refreshToken) {
        const sealed = await encryptSecret(keyring, refreshed.refreshToken, binding(identity.id, identity.workspaceId));
        await database.db
          .update(t.ssoRefreshTokens)
          .set({ ciphertext: sealed.ciphertext, keyVersion: sealed.keyVersion, updatedAt: now })
          .where(eq(t.ssoRefreshTokens.identityId, identity.id));
      }
      return refreshed;
    });
    if (!outcome || outcome.ok) continue;
    if (!outcome.refused) {
      log.warn("sso revalidation failed; access kept until the next check", { userId, reason: outcome.detail });
      continue;
    }
    await database.db.delete(t.ssoRefreshTokens).where(eq(t.ssoRefreshTokens.identityId, identity.id));
    // The owner is never locked out by the directory: the gateway would be left without one.
    if ((await getMemberRole(database, identity.workspaceId, userId)) === "owner") {
      log.warn("sso revalidation refused for the owner; owner keeps access", { userId, reason: outcome.detail });
      continue;
    }
    await deactivateUser(database, userId, "idp", now);
    log.info("sso member's access ended: the identity provider refused", { userId, reason: outcome.detail });
    return false;
  }
  return true;
}
