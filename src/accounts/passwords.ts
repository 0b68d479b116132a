import { and, eq, gt, isNull, ne } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { generateToken, hashToken } from "../crypto/tokens.ts";
import { MIN_PASSWORD_LENGTH, normalizeEmail } from "./accounts.ts";
import { clearSignInFailures } from "./sign-in-limit.ts";

/**
 * A member changing their own password, and the operator's way back in for a locked-out owner
 * (`mcp-gateway users reset-password`): a one-time link, 30 minutes, stored as its SHA-256.
 *
 * Why a link and not a password read from stdin: the new password is then typed only into the
 * sign-in form's page, never through a shell, a pipe or a CI log; what the terminal shows is
 * worthless once used or after 30 minutes; and the page applies the same rules as every other
 * password form. Using it ends every session the account had.
 */

export const RESET_TTL_MS = 30 * 60_000;

export type PasswordResult = { ok: true } | { ok: false; errors: Record<string, string> };

function checkNewPassword(password: string, confirm: string | undefined): Record<string, string> {
  if (password.length < MIN_PASSWORD_LENGTH) return { password: `Use at least ${MIN_PASSWORD_LENGTH} characters.` };
  if (password.length > 1024) return { password: "Use at most 1024 characters." };
  if (confirm !== undefined && confirm !== password) return { confirm: "The two new passwords differ. Type the same one twice." };
  return {};
}

function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id" });
}

/**
 * The current password is required: a session left open on a shared screen must not be enough to
 * take the account. Every other session of the account ends; the one in use (`keepSessionHash`) stays.
 */
export async function changePassword(
  database: Database,
  userId: string,
  input: { current: string; password: string; confirm?: string },
  keepSessionHash: string | null,
): Promise<PasswordResult> {
  const { t } = database;
  const [user] = await database.db.select({ passwordHash: t.users.passwordHash }).from(t.users).where(eq(t.users.id, userId));
  if (!user?.passwordHash) return { ok: false, errors: { current: "Your account has no password here: you sign in through single sign-on." } };
  if (!(await Bun.password.verify(input.current, user.passwordHash).catch(() => false))) {
    return { ok: false, errors: { current: "That is not your current password." } };
  }
  const errors = checkNewPassword(input.password, input.confirm);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  await database.db.update(t.users).set({ passwordHash: await hashPassword(input.password) }).where(eq(t.users.id, userId));
  await database.db.delete(t.sessions).where(and(eq(t.sessions.userId, userId), keepSessionHash ? ne(t.sessions.idHash, keepSessionHash) : undefined));
  return { ok: true };
}

export async function userHasPassword(database: Database, userId: string): Promise<boolean> {
  const [row] = await database.db.select({ hash: database.t.users.passwordHash }).from(database.t.users).where(eq(database.t.users.id, userId));
  return Boolean(row?.hash);
}

export type ResetLinkResult = { ok: true; token: string; expiresAt: number } | { ok: false; error: string };

/** For the CLI: a one-time link for the active member with this email. */
export async function createPasswordReset(database: Database, email: string, now = Date.now()): Promise<ResetLinkResult> {
  const { t } = database;
  const [user] = await database.db
    .select({ id: t.users.id, disabledAt: t.users.disabledAt })
    .from(t.users)
    .innerJoin(t.memberships, eq(t.memberships.userId, t.users.id))
    .where(eq(t.users.email, normalizeEmail(email)));
  if (!user) return { ok: false, error: `No member with email ${email}. Check the address (mcp-gateway keys and the Members page list them).` };
  if (user.disabledAt !== null) return { ok: false, error: `${email} is deactivated. Reactivate them on the Members page first.` };
  const token = generateToken(20);
  const expiresAt = now + RESET_TTL_MS;
  await database.db.insert(t.passwordResets).values({ tokenHash: hashToken(token), userId: user.id, createdAt: now, expiresAt });
  return { ok: true, token, expiresAt };
}

export function resetLink(baseUrl: string, token: string): string {
  return `${baseUrl}/reset-password?token=${encodeURIComponent(token)}`;
}

/** The email the link resets, or null when it is unknown, used or expired. */
export async function findPasswordReset(database: Database, token: string, now = Date.now()): Promise<{ email: string } | null> {
  if (token.length === 0 || token.length > 200) return null;
  const { t } = database;
  const [row] = await database.db
    .select({ email: t.users.email })
    .from(t.passwordResets)
    .innerJoin(t.users, eq(t.users.id, t.passwordResets.userId))
    .where(and(eq(t.passwordResets.tokenHash, hashToken(token)), isNull(t.passwordResets.usedAt), gt(t.passwordResets.expiresAt, now), isNull(t.users.disabledAt)));
  return row ?? null;
}

/** Sets the password through the link, once: every session of the account ends, sign-in delays are cleared. */
export async function usePasswordReset(database: Database, token: string, input: { password: string; confirm?: string }, now = Date.now()): Promise<PasswordResult | { ok: false; gone: true }> {
  const errors = checkNewPassword(input.password, input.confirm);
  if (Object.keys(errors).length > 0) return (await findPasswordReset(database, token, now)) ? { ok: false, errors } : { ok: false, gone: true };
  const passwordHash = await hashPassword(input.password);
  const { t } = database;
  const email = await database.transaction(async (tx) => {
    const [used] = await tx
      .update(t.passwordResets)
      .set({ usedAt: now })
      .where(and(eq(t.passwordResets.tokenHash, hashToken(token)), isNull(t.passwordResets.usedAt), gt(t.passwordResets.expiresAt, now)))
      .returning({ userId: t.passwordResets.userId });
    if (!used) return null;
    const [user] = await tx.update(t.users).set({ passwordHash }).where(and(eq(t.users.id, used.userId), isNull(t.users.disabledAt))).returning({ email: t.users.email });
    if (!user) return null;
    await tx.delete(t.sessions).where(eq(t.sessions.userId, used.userId));
    return user.email;
  });
  if (email === null) return { ok: false, gone: true };
  await clearSignInFailures(database, email);
  return { ok: true };
}
