import { and, desc, eq, gt, isNull } from "drizzle-orm";
import type { Database, Db } from "../db/client.ts";
import { generateToken, hashToken, newId } from "../crypto/tokens.ts";
import type { Principal } from "../accounts/principal.ts";
import { authChanged, type Resolved } from "../accounts/principal-cache.ts";

/**
 * Access and refresh tokens for the MCP endpoint: opaque, 160 random bits behind a recognisable
 * prefix, stored as SHA-256 hashes, bound to one grant (member + workspace + client + resource).
 * Refresh tokens rotate; presenting a spent one revokes the whole grant (RFC 9700 §4.14.2).
 */

export const ACCESS_TOKEN_PREFIX = "mgwat_";
const REFRESH_TOKEN_PREFIX = "mgwrt_";
const ACCESS_TOKEN_TTL_MS = 3600_000;
const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600_000;
const LAST_USED_GRANULARITY_MS = 60_000;

export type TokenResponse = { access_token: string; token_type: "Bearer"; expires_in: number; refresh_token: string; scope: string };
export type TokenError = { ok: false; error: "invalid_grant" | "invalid_request" | "invalid_target" | "invalid_scope"; description: string };
export type GrantInput = { workspaceId: string; userId: string; clientId: string; clientName: string; resource: string; scope: string };
export type GrantSummary = { id: string; clientId: string; clientName: string; createdAt: number; lastUsedAt: number | null; profileId: string | null };

export async function createGrant(db: Db, tables: Database["t"], input: GrantInput, now = Date.now()): Promise<string> {
  const id = newId();
  await db.insert(tables.oauthGrants).values({ id, ...input, createdAt: now });
  return id;
}

export async function issueTokens(database: Database, grant: { id: string; scope: string }, now = Date.now()): Promise<TokenResponse> {
  const access = ACCESS_TOKEN_PREFIX + generateToken(20);
  const refresh = REFRESH_TOKEN_PREFIX + generateToken(20);
  await database.db.insert(database.t.oauthTokens).values([
    { tokenHash: hashToken(access), grantId: grant.id, kind: "access", createdAt: now, expiresAt: now + ACCESS_TOKEN_TTL_MS },
    { tokenHash: hashToken(refresh), grantId: grant.id, kind: "refresh", createdAt: now, expiresAt: now + REFRESH_TOKEN_TTL_MS },
  ]);
  return { access_token: access, token_type: "Bearer", expires_in: ACCESS_TOKEN_TTL_MS / 1000, refresh_token: refresh, scope: grant.scope };
}

export async function revokeGrant(database: Database, grantId: string, now = Date.now()): Promise<void> {
  const { t } = database;
  await database.db.update(t.oauthGrants).set({ revokedAt: now }).where(and(eq(t.oauthGrants.id, grantId), isNull(t.oauthGrants.revokedAt)));
  await authChanged(database);
}

export async function refreshTokens(
  database: Database,
  input: { refreshToken: string; clientId: string; resource: string | null },
  now = Date.now(),
): Promise<{ ok: true; tokens: TokenResponse } | TokenError> {
  const { t } = database;
  const refused = (description: string): TokenError => ({ ok: false, error: "invalid_grant", description });
  if (!input.refreshToken.startsWith(REFRESH_TOKEN_PREFIX)) return refused("The refresh token is unknown.");
  const tokenHash = hashToken(input.refreshToken);
  const [row] = await database.db
    .select({ token: t.oauthTokens, grant: t.oauthGrants, disabledAt: t.users.disabledAt, role: t.memberships.role })
    .from(t.oauthTokens)
    .innerJoin(t.oauthGrants, eq(t.oauthGrants.id, t.oauthTokens.grantId))
    .innerJoin(t.users, eq(t.users.id, t.oauthGrants.userId))
    .leftJoin(t.memberships, and(eq(t.memberships.userId, t.oauthGrants.userId), eq(t.memberships.workspaceId, t.oauthGrants.workspaceId)))
    .where(and(eq(t.oauthTokens.tokenHash, tokenHash), eq(t.oauthTokens.kind, "refresh")));
  if (!row || row.grant.revokedAt !== null) return refused("The refresh token is unknown or revoked.");
  if (row.grant.clientId !== input.clientId) return refused("The refresh token was issued to another client.");
  if (row.token.usedAt !== null) {
    await revokeGrant(database, row.grant.id, now);
    return refused("The refresh token was already used; every token of this grant is now revoked.");
  }
  if (row.token.expiresAt <= now) return refused("The refresh token expired. Authorize again.");
  if (row.disabledAt !== null || row.role === null) return refused("The member's access has ended.");
  if (input.resource !== null && input.resource !== row.grant.resource) return { ok: false, error: "invalid_target", description: "The grant is for another resource." };
  // Claimed once: of two concurrent uses, the second is a replay.
  const claimed = await database.db
    .update(t.oauthTokens)
    .set({ usedAt: now })
    .where(and(eq(t.oauthTokens.tokenHash, tokenHash), isNull(t.oauthTokens.usedAt)))
    .returning({ grantId: t.oauthTokens.grantId });
  if (claimed.length === 0) {
    await revokeGrant(database, row.grant.id, now);
    return refused("The refresh token was already used; every token of this grant is now revoked.");
  }
  return { ok: true, tokens: await issueTokens(database, row.grant, now) };
}

/**
 * The member behind an access token for `resource` and when the token expires, or null: unknown,
 * expired, revoked, disabled, or no longer a member.
 */
export async function resolveAccessToken(database: Database, token: string, resource: string, now = Date.now()): Promise<Resolved | null> {
  if (!token.startsWith(ACCESS_TOKEN_PREFIX) || token.length > 200) return null;
  const { t } = database;
  const [row] = await database.db
    .select({ grant: t.oauthGrants, email: t.users.email, role: t.memberships.role, expiresAt: t.oauthTokens.expiresAt })
    .from(t.oauthTokens)
    .innerJoin(t.oauthGrants, eq(t.oauthGrants.id, t.oauthTokens.grantId))
    .innerJoin(t.users, eq(t.users.id, t.oauthGrants.userId))
    .innerJoin(t.memberships, and(eq(t.memberships.userId, t.oauthGrants.userId), eq(t.memberships.workspaceId, t.oauthGrants.workspaceId)))
    .where(
      and(
        eq(t.oauthTokens.tokenHash, hashToken(token)),
        eq(t.oauthTokens.kind, "access"),
        gt(t.oauthTokens.expiresAt, now),
        isNull(t.oauthGrants.revokedAt),
        isNull(t.users.disabledAt),
        eq(t.oauthGrants.resource, resource),
      ),
    );
  if (!row) return null;
  const { grant } = row;
  if (grant.lastUsedAt === null || now - grant.lastUsedAt > LAST_USED_GRANULARITY_MS) {
    await database.db.update(t.oauthGrants).set({ lastUsedAt: now }).where(eq(t.oauthGrants.id, grant.id));
  }
  // The grant stands where a key would: sessions, the access log and revocation follow it.
  const principal: Principal = { workspaceId: grant.workspaceId, userId: grant.userId, email: row.email, role: row.role, credential: { kind: "oauth_grant", id: grant.id, clientName: grant.clientName }, ...(grant.profileId ? { profileId: grant.profileId } : {}) };
  return { principal, expiresAt: row.expiresAt };
}

/** RFC 7009: revoking either token of a grant revokes the grant. Unknown tokens are not an error. */
export async function revokeToken(database: Database, token: string, clientId: string | null, now = Date.now()): Promise<void> {
  const { t } = database;
  const [row] = await database.db
    .select({ grantId: t.oauthGrants.id, clientId: t.oauthGrants.clientId })
    .from(t.oauthTokens)
    .innerJoin(t.oauthGrants, eq(t.oauthGrants.id, t.oauthTokens.grantId))
    .where(eq(t.oauthTokens.tokenHash, hashToken(token)));
  if (row && (clientId === null || clientId === row.clientId)) await revokeGrant(database, row.grantId, now);
}

/** The clients a member approved that still hold access. */
export async function listMemberGrants(database: Database, workspaceId: string, userId: string): Promise<GrantSummary[]> {
  const { t } = database;
  return database.db
    .select({ id: t.oauthGrants.id, clientId: t.oauthGrants.clientId, clientName: t.oauthGrants.clientName, createdAt: t.oauthGrants.createdAt, lastUsedAt: t.oauthGrants.lastUsedAt, profileId: t.oauthGrants.profileId })
    .from(t.oauthGrants)
    .where(and(eq(t.oauthGrants.workspaceId, workspaceId), eq(t.oauthGrants.userId, userId), isNull(t.oauthGrants.revokedAt)))
    .orderBy(desc(t.oauthGrants.createdAt));
}

/** A member revokes a grant of their own. */
export async function revokeMemberGrant(database: Database, principal: Principal, grantId: string, now = Date.now()): Promise<boolean> {
  const { t } = database;
  const rows = await database.db
    .update(t.oauthGrants)
    .set({ revokedAt: now })
    .where(and(eq(t.oauthGrants.id, grantId), eq(t.oauthGrants.workspaceId, principal.workspaceId), eq(t.oauthGrants.userId, principal.userId), isNull(t.oauthGrants.revokedAt)))
    .returning({ id: t.oauthGrants.id });
  if (rows.length > 0) await authChanged(database);
  return rows.length > 0;
}

export async function revokeUserGrants(database: Database, userId: string, now = Date.now()): Promise<void> {
  const { t } = database;
  await database.db.update(t.oauthGrants).set({ revokedAt: now }).where(and(eq(t.oauthGrants.userId, userId), isNull(t.oauthGrants.revokedAt)));
  await authChanged(database);
}
