import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { recordAudit } from "../audit/record.ts";
import { authChanged } from "../accounts/principal-cache.ts";

export type GrantProfileResult = { ok: true } | { ok: false; error: string };

/**
 * Limits an OAuth-connected app (its grant) to a profile, or frees it (`profileId` null), audited
 * in the same transaction. Every replica forgets the grant's remembered principal, so its next
 * request is served under the new profile.
 */
export async function setGrantProfile(database: Database, workspaceId: string, grantId: string, profileId: string | null): Promise<GrantProfileResult> {
  const { t } = database;
  const result = await database.transaction(async (tx): Promise<GrantProfileResult> => {
    let profileName: string | null = null;
    if (profileId !== null) {
      const [profile] = await tx.select({ name: t.profiles.name }).from(t.profiles).where(and(eq(t.profiles.id, profileId), eq(t.profiles.workspaceId, workspaceId)));
      if (!profile) return { ok: false, error: "That profile is not in this workspace any more. Pick another, or none for the whole workspace." };
      profileName = profile.name;
    }
    const updated = await tx
      .update(t.oauthGrants)
      .set({ profileId })
      .where(and(eq(t.oauthGrants.id, grantId), eq(t.oauthGrants.workspaceId, workspaceId), isNull(t.oauthGrants.revokedAt)))
      .returning({ clientName: t.oauthGrants.clientName, userId: t.oauthGrants.userId });
    if (!updated[0]) return { ok: false, error: "This app's access was revoked meanwhile." };
    await recordAudit(database, tx, { workspaceId, action: "oauth_grant.profile_set", target: `oauth_grant:${grantId}`, details: { client: updated[0].clientName, owner: `user:${updated[0].userId}`, profile: profileName } });
    return { ok: true };
  });
  if (result.ok) await authChanged(database);
  return result;
}
