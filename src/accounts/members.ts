import { and, asc, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { revokeUserApiKeys } from "./api-keys.ts";
import { revokeUserGrants } from "../oauth-server/tokens.ts";
import type { Principal, Role } from "./principal.ts";
import { invalidateUserSessions } from "./sessions.ts";
import { authChanged } from "./principal-cache.ts";
import { recordAudit } from "../audit/record.ts";

/** The members of a workspace, their roles, and ending or restoring their access. */

export type MemberSummary = {
  userId: string;
  email: string;
  name: string;
  role: Role;
  source: "local" | "sso";
  ssoLinked: boolean;
  lastSignInAt: number | null;
  disabledAt: number | null;
  disabledReason: DisableReason | null;
};

export type DisableReason = "directory" | "idp" | "admin";

export async function listMembers(database: Database, workspaceId: string): Promise<MemberSummary[]> {
  const { t } = database;
  const rows = await database.db
    .select({
      userId: t.users.id,
      email: t.users.email,
      name: t.users.name,
      role: t.memberships.role,
      source: t.users.source,
      lastSignInAt: t.users.lastSignInAt,
      disabledAt: t.users.disabledAt,
      disabledReason: t.users.disabledReason,
    })
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .where(eq(t.memberships.workspaceId, workspaceId))
    .orderBy(asc(t.users.email));
  const linked = await database.db
    .select({ userId: t.ssoIdentities.userId })
    .from(t.ssoIdentities)
    .where(eq(t.ssoIdentities.workspaceId, workspaceId));
  const linkedIds = new Set(linked.map((r) => r.userId));
  return rows.map((r) => ({ ...r, ssoLinked: linkedIds.has(r.userId) }));
}

export type ChangeRoleResult = { ok: true } | { ok: false; error: string };

/** Admins set admin or member; the owner's role is not changed here, and nobody becomes owner. */
export async function changeMemberRole(database: Database, principal: Principal, userId: string, role: string): Promise<ChangeRoleResult> {
  if (role !== "admin" && role !== "member") return { ok: false, error: "Choose admin or member." };
  const { t } = database;
  const [membership] = await database.db
    .select({ role: t.memberships.role })
    .from(t.memberships)
    .where(and(eq(t.memberships.workspaceId, principal.workspaceId), eq(t.memberships.userId, userId)));
  if (!membership) return { ok: false, error: "That person is not a member of this workspace." };
  if (membership.role === "owner") return { ok: false, error: "The owner's role cannot be changed." };
  // An admin who demoted themselves could not undo it.
  if (userId === principal.userId) return { ok: false, error: "You cannot change your own role. Ask another admin or the owner." };
  await database.transaction(async (tx) => {
    await tx.update(t.memberships).set({ role }).where(and(eq(t.memberships.workspaceId, principal.workspaceId), eq(t.memberships.userId, userId)));
    await recordAudit(database, tx, { workspaceId: principal.workspaceId, action: "member.role_changed", target: `user:${userId}`, details: { from: membership.role, to: role } });
  });
  await authChanged(database);
  return { ok: true };
}

export async function getMemberRole(database: Database, workspaceId: string, userId: string): Promise<Role | null> {
  const { t } = database;
  const [row] = await database.db
    .select({ role: t.memberships.role })
    .from(t.memberships)
    .where(and(eq(t.memberships.workspaceId, workspaceId), eq(t.memberships.userId, userId)));
  return row?.role ?? null;
}

/**
 * Ends a user's access at once: disabled first (every session and key check looks at it), then
 * their sessions are deleted and their API keys and OAuth grants revoked, so nothing comes back if re-enabled.
 */
export async function deactivateUser(database: Database, userId: string, reason: DisableReason, now = Date.now()): Promise<void> {
  const { t } = database;
  await database.transaction(async (tx) => {
    await tx.update(t.users).set({ disabledAt: now, disabledReason: reason }).where(eq(t.users.id, userId));
    for (const { workspaceId } of await tx.select({ workspaceId: t.memberships.workspaceId }).from(t.memberships).where(eq(t.memberships.userId, userId))) {
      await recordAudit(database, tx, { workspaceId, action: "member.deactivated", target: `user:${userId}`, details: { reason } });
    }
  });
  await authChanged(database);
  await invalidateUserSessions(database, userId);
  await revokeUserApiKeys(database, userId, now);
  await revokeUserGrants(database, userId, now);
}

export async function reactivateUser(database: Database, userId: string): Promise<void> {
  const { t } = database;
  await database.transaction(async (tx) => {
    await tx.update(t.users).set({ disabledAt: null, disabledReason: null }).where(eq(t.users.id, userId));
    for (const { workspaceId } of await tx.select({ workspaceId: t.memberships.workspaceId }).from(t.memberships).where(eq(t.memberships.userId, userId))) {
      await recordAudit(database, tx, { workspaceId, action: "member.reactivated", target: `user:${userId}` });
    }
  });
}
