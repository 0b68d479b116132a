import { and, eq, gt, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { generateToken, hashToken } from "../crypto/tokens.ts";
import type { Principal } from "./principal.ts";

export const SESSION_TTL_MS = 30 * 24 * 3600_000;
const RENEW_WHEN_LEFT_MS = 15 * 24 * 3600_000;

export type SessionInfo = { principal: Principal; expiresAt: number };

/** The token goes in the cookie; only its hash is stored. */
export async function createSession(
  database: Database,
  userId: string,
  workspaceId: string,
  now = Date.now(),
): Promise<{ token: string; expiresAt: number }> {
  const token = generateToken(24);
  const expiresAt = now + SESSION_TTL_MS;
  await database.db.insert(database.t.sessions).values({ idHash: hashToken(token), userId, workspaceId, createdAt: now, expiresAt });
  // Every sign-in (password or SSO) makes a session: the members list shows when.
  await database.db.update(database.t.users).set({ lastSignInAt: now }).where(eq(database.t.users.id, userId));
  return { token, expiresAt };
}

export async function validateSessionToken(database: Database, token: string, now = Date.now()): Promise<SessionInfo | null> {
  const { t } = database;
  const idHash = hashToken(token);
  const [row] = await database.db
    .select({
      expiresAt: t.sessions.expiresAt,
      userId: t.users.id,
      email: t.users.email,
      workspaceId: t.memberships.workspaceId,
      role: t.memberships.role,
    })
    .from(t.sessions)
    .innerJoin(t.users, eq(t.users.id, t.sessions.userId))
    .innerJoin(t.memberships, and(eq(t.memberships.userId, t.sessions.userId), eq(t.memberships.workspaceId, t.sessions.workspaceId)))
    .where(and(eq(t.sessions.idHash, idHash), gt(t.sessions.expiresAt, now), isNull(t.users.disabledAt)));
  if (!row) return null;
  let expiresAt = row.expiresAt;
  if (expiresAt - now < RENEW_WHEN_LEFT_MS) {
    expiresAt = now + SESSION_TTL_MS;
    await database.db.update(t.sessions).set({ expiresAt }).where(eq(t.sessions.idHash, idHash));
  }
  return {
    principal: { workspaceId: row.workspaceId, userId: row.userId, email: row.email, role: row.role, credential: { kind: "session" } },
    expiresAt,
  };
}

export async function invalidateSession(database: Database, token: string): Promise<void> {
  await database.db.delete(database.t.sessions).where(eq(database.t.sessions.idHash, hashToken(token)));
}

export async function invalidateUserSessions(database: Database, userId: string): Promise<void> {
  await database.db.delete(database.t.sessions).where(eq(database.t.sessions.userId, userId));
}
