import { recordAudit } from "../audit/record.ts";
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { deactivateUser, getMemberRole, reactivateUser } from "./members.ts";
import type { Principal } from "./principal.ts";

/**
 * What an admin does to another member on the Members page. The endings reuse SCIM's
 * deprovisioning (`deactivateUser`): sessions deleted, API keys and OAuth grants revoked, and every
 * remembered principal forgotten on every replica, so the member's next request — dashboard, JSON
 * API or MCP endpoint — is refused. The owner is out of an admin's reach, and nobody ends their own
 * access here (they would lock themselves out mid-click).
 */

export type MemberActionResult = { ok: true } | { ok: false; error: string };

async function checkTarget(database: Database, principal: Principal, userId: string): Promise<MemberActionResult> {
  const role = await getMemberRole(database, principal.workspaceId, userId);
  if (role === null) return { ok: false, error: "That person is not a member of this workspace." };
  if (role === "owner") return { ok: false, error: "The owner cannot be deactivated or removed." };
  if (userId === principal.userId) return { ok: false, error: "You cannot deactivate or remove yourself." };
  return { ok: true };
}

export async function deactivateMember(database: Database, principal: Principal, userId: string, now = Date.now()): Promise<MemberActionResult> {
  const checked = await checkTarget(database, principal, userId);
  if (!checked.ok) return checked;
  await deactivateUser(database, userId, "admin", now);
  return { ok: true };
}

/** Back in, with nothing of before: keys, grants and sessions ended at deactivation stay ended. */
export async function reactivateMember(database: Database, principal: Principal, userId: string): Promise<MemberActionResult> {
  const checked = await checkTarget(database, principal, userId);
  if (!checked.ok) return checked;
  await reactivateUser(database, userId);
  return { ok: true };
}

/**
 * Out of the workspace: access ends as on deactivation, then the membership and the member's own
 * credentials for per-member connections are deleted. The user row stays, so the access log keeps
 * naming who made past calls; an invitation can bring them back.
 */
export async function removeMember(database: Database, principal: Principal, userId: string, now = Date.now()): Promise<MemberActionResult> {
  const checked = await checkTarget(database, principal, userId);
  if (!checked.ok) return checked;
  const { t } = database;
  await deactivateUser(database, userId, "admin", now);
  await database.transaction(async (tx) => {
    await tx.delete(t.memberCredentials).where(and(eq(t.memberCredentials.workspaceId, principal.workspaceId), eq(t.memberCredentials.userId, userId)));
    await tx.delete(t.memberships).where(and(eq(t.memberships.workspaceId, principal.workspaceId), eq(t.memberships.userId, userId)));
    await recordAudit(database, tx, { workspaceId: principal.workspaceId, action: "member.removed", target: `user:${userId}` });
  });
  return { ok: true };
}
