import { recordAudit } from "../audit/record.ts";
import { and, asc, eq, gt, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { generateToken, hashToken, newId } from "../crypto/tokens.ts";
import { normalizeEmail, validateCredentials } from "./accounts.ts";
import type { Principal } from "./principal.ts";

/**
 * Invitations: an admin names an email and a role; the gateway makes a link that whoever opens it
 * first uses to set a password and join. The token is 160 random bits, shown once to the admin and
 * stored only as its SHA-256; accepting marks it used in the same statement that checks it, so two
 * racing acceptances cannot both join. The link carries the token in its query, never its path:
 * every request's path is logged (app.ts), its query is not.
 */

export const INVITE_TTL_MS = 7 * 24 * 3600_000;
export type InviteRole = "admin" | "member";

export type PendingInvite = { id: string; email: string; role: InviteRole; createdAt: number; expiresAt: number };
export type CreateInviteResult = { ok: true; id: string; token: string } | { ok: false; errors: Record<string, string> };
/** Why a link does not work: each says what to do next. */
export type InviteRefusal = "unknown" | "expired" | "used" | "revoked";
export type FoundInvite = { ok: true; invite: PendingInvite & { workspaceId: string } } | { ok: false; reason: InviteRefusal };

export function inviteLink(baseUrl: string, token: string): string {
  return `${baseUrl}/invite?token=${encodeURIComponent(token)}`;
}

export async function createInvite(database: Database, principal: Principal, input: { email: string; role: string }, now = Date.now()): Promise<CreateInviteResult> {
  const email = normalizeEmail(input.email);
  const errors: Record<string, string> = {};
  if (validateCredentials(email, "x".repeat(64)).email) errors.email = "Enter an email address like you@example.com.";
  if (input.role !== "admin" && input.role !== "member") errors.role = "Choose admin or member.";
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const { t } = database;
  const [existing] = await database.db
    .select({ userId: t.users.id })
    .from(t.users)
    .innerJoin(t.memberships, and(eq(t.memberships.userId, t.users.id), eq(t.memberships.workspaceId, principal.workspaceId)))
    .where(eq(t.users.email, email));
  if (existing) return { ok: false, errors: { email: "That person is already a member of this workspace." } };
  const token = generateToken(20);
  const id = newId();
  await database.transaction(async (tx) => {
    // One live link per address: a new invitation replaces the old one.
    await tx
      .update(t.invites)
      .set({ revokedAt: now })
      .where(and(eq(t.invites.workspaceId, principal.workspaceId), eq(t.invites.email, email), isNull(t.invites.acceptedAt), isNull(t.invites.revokedAt)));
    await tx.insert(t.invites).values({
      id,
      workspaceId: principal.workspaceId,
      email,
      role: input.role as InviteRole,
      tokenHash: hashToken(token),
      createdBy: principal.userId,
      createdAt: now,
      expiresAt: now + INVITE_TTL_MS,
    });
    await recordAudit(database, tx, { workspaceId: principal.workspaceId, action: "member.invited", target: `invite:${id}`, details: { email, role: input.role } });
  });
  return { ok: true, id, token };
}

/** Invitations not yet accepted, revoked or expired, oldest first. */
export async function listPendingInvites(database: Database, workspaceId: string, now = Date.now()): Promise<PendingInvite[]> {
  const { t } = database;
  return database.db
    .select({ id: t.invites.id, email: t.invites.email, role: t.invites.role, createdAt: t.invites.createdAt, expiresAt: t.invites.expiresAt })
    .from(t.invites)
    .where(and(eq(t.invites.workspaceId, workspaceId), isNull(t.invites.acceptedAt), isNull(t.invites.revokedAt), gt(t.invites.expiresAt, now)))
    .orderBy(asc(t.invites.createdAt));
}

export async function revokeInvite(database: Database, workspaceId: string, id: string, now = Date.now()): Promise<boolean> {
  const { t } = database;
  const rows = await database.transaction(async (tx) => {
    const revoked = await tx
      .update(t.invites)
      .set({ revokedAt: now })
      .where(and(eq(t.invites.workspaceId, workspaceId), eq(t.invites.id, id), isNull(t.invites.acceptedAt), isNull(t.invites.revokedAt)))
      .returning({ id: t.invites.id, email: t.invites.email });
    if (revoked.length > 0) await recordAudit(database, tx, { workspaceId, action: "member.invite_revoked", target: `invite:${id}`, details: { email: revoked[0]!.email } });
    return revoked;
  });
  return rows.length > 0;
}

/** What the link's page shows: the invitation, or why it no longer works. */
export async function findInvite(database: Database, token: string, now = Date.now()): Promise<FoundInvite> {
  if (token.length === 0 || token.length > 200) return { ok: false, reason: "unknown" };
  const { t } = database;
  const [row] = await database.db.select().from(t.invites).where(eq(t.invites.tokenHash, hashToken(token)));
  if (!row) return { ok: false, reason: "unknown" };
  if (row.revokedAt !== null) return { ok: false, reason: "revoked" };
  if (row.acceptedAt !== null) return { ok: false, reason: "used" };
  if (row.expiresAt <= now) return { ok: false, reason: "expired" };
  return { ok: true, invite: { id: row.id, workspaceId: row.workspaceId, email: row.email, role: row.role, createdAt: row.createdAt, expiresAt: row.expiresAt } };
}

export type AcceptInviteResult = { ok: true; userId: string; workspaceId: string } | { ok: false; errors: Record<string, string> } | { ok: false; reason: InviteRefusal };

/**
 * Joins the workspace through the link: the invitation is used up, the person gets a password and
 * the invited role. Someone removed earlier comes back as the same user (their past calls keep their
 * name in the access log); an address that is a member already is refused.
 */
export async function acceptInvite(database: Database, token: string, input: { name?: string; password: string }, now = Date.now()): Promise<AcceptInviteResult> {
  const found = await findInvite(database, token, now);
  if (!found.ok) return found;
  const invite = found.invite;
  const errors = validateCredentials(invite.email, input.password);
  if (errors.password) return { ok: false, errors: { password: errors.password } };
  const passwordHash = await Bun.password.hash(input.password, { algorithm: "argon2id" });
  const { t } = database;
  return database.transaction(async (tx): Promise<AcceptInviteResult> => {
    const used = await tx
      .update(t.invites)
      .set({ acceptedAt: now })
      .where(and(eq(t.invites.tokenHash, hashToken(token)), isNull(t.invites.acceptedAt), isNull(t.invites.revokedAt), gt(t.invites.expiresAt, now)))
      .returning({ id: t.invites.id });
    if (used.length === 0) return { ok: false, reason: "used" };
    const [user] = await tx.select({ id: t.users.id }).from(t.users).where(eq(t.users.email, invite.email));
    const name = input.name?.trim().slice(0, 128) || invite.email;
    let userId: string;
    if (user) {
      const [member] = await tx.select({ role: t.memberships.role }).from(t.memberships).where(eq(t.memberships.userId, user.id));
      if (member) return { ok: false, errors: { form: "This address already belongs to a member. Sign in instead." } };
      userId = user.id;
      await tx.update(t.users).set({ passwordHash, name, disabledAt: null, disabledReason: null }).where(eq(t.users.id, userId));
    } else {
      userId = newId();
      await tx.insert(t.users).values({ id: userId, email: invite.email, name, passwordHash, createdAt: now });
    }
    await tx.insert(t.memberships).values({ workspaceId: invite.workspaceId, userId, role: invite.role, createdAt: now });
    await recordAudit(database, tx, { workspaceId: invite.workspaceId, action: "member.joined", target: `user:${userId}`, details: { email: invite.email, role: invite.role, invite: used[0]!.id } });
    return { ok: true, userId, workspaceId: invite.workspaceId };
  });
}
