import { and, count, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { preparedOnce, type Database } from "../db/client.ts";
import { generateToken, hashToken, newId } from "../crypto/tokens.ts";
import type { Principal } from "./principal.ts";
import { authChanged, type Resolved } from "./principal-cache.ts";
import { recordAudit } from "../audit/record.ts";

export const API_KEY_PREFIX = "mgw_";
// Only record last use this often, so a busy key does not write on every call.
const LAST_USED_GRANULARITY_MS = 60_000;

export type ApiKeySummary = {
  id: string;
  name: string;
  prefix: string;
  userEmail: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
  /** The profile the key is limited to (its name), null for the whole workspace. */
  profileName: string | null;
};

export type CreateApiKeyResult = { ok: true; id: string; key: string; prefix: string } | { ok: false; errors: Record<string, string> };

/**
 * `mgw_` + 160 random bits. Shown once; stored as a SHA-256 hash. `maxActive` caps the member's
 * active keys in the workspace (MAX_API_KEYS_PER_USER; every caller in src passes it). The count
 * and the insert are two statements: creations racing each other may pass it by the few in flight.
 */
export async function createApiKey(
  database: Database,
  input: { workspaceId: string; userId: string; name: string; expiresAt?: number | null; maxActive?: number; profileId?: string | null },
  now = Date.now(),
): Promise<CreateApiKeyResult> {
  const name = input.name.trim();
  if (name.length === 0) return { ok: false, errors: { name: "Give the key a name, like the client that will use it." } };
  if (name.length > 64) return { ok: false, errors: { name: "Use at most 64 characters." } };
  if (input.maxActive !== undefined && (await countActiveApiKeys(database, input.workspaceId, input.userId, now)) >= input.maxActive) {
    return { ok: false, errors: { keys: `You already have ${input.maxActive} active keys, the most one member may hold. Revoke one you no longer use, then create this one.` } };
  }
  const profileId = input.profileId || null;
  if (profileId !== null && !(await profileExists(database, input.workspaceId, profileId))) {
    return { ok: false, errors: { profile: "That profile is not in this workspace any more. Pick another, or none for the whole workspace." } };
  }
  const key = API_KEY_PREFIX + generateToken(20);
  const id = newId();
  const prefix = key.slice(0, API_KEY_PREFIX.length + 6);
  await database.transaction(async (tx) => {
    await tx.insert(database.t.apiKeys).values({
      id,
      workspaceId: input.workspaceId,
      userId: input.userId,
      name,
      prefix,
      secretHash: hashToken(key),
      createdAt: now,
      expiresAt: input.expiresAt ?? null,
      profileId,
    });
    await recordAudit(database, tx, { workspaceId: input.workspaceId, action: "api_key.created", target: `api_key:${id}`, details: { name, prefix, owner: `user:${input.userId}`, expiresAt: input.expiresAt ?? null, profile: profileId } });
  });
  return { ok: true, id, key, prefix };
}

/** Keys neither revoked nor expired. */
export async function countActiveApiKeys(database: Database, workspaceId: string, userId: string, now = Date.now()): Promise<number> {
  const { t } = database;
  const [row] = await database.db
    .select({ n: count() })
    .from(t.apiKeys)
    .where(and(eq(t.apiKeys.workspaceId, workspaceId), eq(t.apiKeys.userId, userId), isNull(t.apiKeys.revokedAt), or(isNull(t.apiKeys.expiresAt), gt(t.apiKeys.expiresAt, now))));
  return Number(row?.n ?? 0);
}

export async function listApiKeys(database: Database, workspaceId: string, userId?: string): Promise<ApiKeySummary[]> {
  const { t } = database;
  return database.db
    .select({
      id: t.apiKeys.id,
      name: t.apiKeys.name,
      prefix: t.apiKeys.prefix,
      userEmail: t.users.email,
      createdAt: t.apiKeys.createdAt,
      lastUsedAt: t.apiKeys.lastUsedAt,
      expiresAt: t.apiKeys.expiresAt,
      revokedAt: t.apiKeys.revokedAt,
      profileName: t.profiles.name,
    })
    .from(t.apiKeys)
    .innerJoin(t.users, eq(t.users.id, t.apiKeys.userId))
    .leftJoin(t.profiles, eq(t.profiles.id, t.apiKeys.profileId))
    .where(and(eq(t.apiKeys.workspaceId, workspaceId), userId ? eq(t.apiKeys.userId, userId) : undefined))
    .orderBy(desc(t.apiKeys.createdAt));
}

/** Members revoke their own keys; admins any key of the workspace. */
export async function revokeApiKey(database: Database, principal: Principal, keyId: string, now = Date.now()): Promise<boolean> {
  const { t } = database;
  const ownOnly = principal.role === "member" ? eq(t.apiKeys.userId, principal.userId) : undefined;
  const rows = await database.transaction(async (tx) => {
    const revoked = await tx
      .update(t.apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(t.apiKeys.id, keyId), eq(t.apiKeys.workspaceId, principal.workspaceId), isNull(t.apiKeys.revokedAt), ownOnly))
      .returning({ id: t.apiKeys.id, name: t.apiKeys.name, userId: t.apiKeys.userId });
    if (revoked[0]) await recordAudit(database, tx, { workspaceId: principal.workspaceId, action: "api_key.revoked", target: `api_key:${keyId}`, details: { name: revoked[0].name, owner: `user:${revoked[0].userId}` } });
    return revoked;
  });
  if (rows.length > 0) await authChanged(database);
  return rows.length > 0;
}

export async function revokeUserApiKeys(database: Database, userId: string, now = Date.now()): Promise<void> {
  const { t } = database;
  await database.db.update(t.apiKeys).set({ revokedAt: now }).where(and(eq(t.apiKeys.userId, userId), isNull(t.apiKeys.revokedAt)));
  await authChanged(database);
}

type KeyRow = { id: string; name: string; lastUsedAt: number | null; workspaceId: string; userId: string; email: string; role: Principal["role"]; expiresAt: number | null; profileId: string | null };

// Every MCP request looks its key up.
const keyLookup = preparedOnce((database: Database) => {
  const { t } = database;
  return database.db
    .select({
      id: t.apiKeys.id,
      name: t.apiKeys.name,
      lastUsedAt: t.apiKeys.lastUsedAt,
      workspaceId: t.apiKeys.workspaceId,
      userId: t.users.id,
      email: t.users.email,
      role: t.memberships.role,
      expiresAt: t.apiKeys.expiresAt,
      profileId: t.apiKeys.profileId,
    })
    .from(t.apiKeys)
    .innerJoin(t.users, eq(t.users.id, t.apiKeys.userId))
    .innerJoin(t.memberships, and(eq(t.memberships.userId, t.apiKeys.userId), eq(t.memberships.workspaceId, t.apiKeys.workspaceId)))
    .where(
      and(
        eq(t.apiKeys.secretHash, sql.placeholder("hash")),
        isNull(t.apiKeys.revokedAt),
        isNull(t.users.disabledAt),
        or(isNull(t.apiKeys.expiresAt), gt(t.apiKeys.expiresAt, sql.placeholder("now"))),
      ),
    )
    .prepare();
});

export async function validateApiKey(database: Database, key: string, now = Date.now()): Promise<Principal | null> {
  return (await resolveApiKey(database, key, now))?.principal ?? null;
}

/** The key's member and when the key expires (null: never), or null when it is not valid now. */
export async function resolveApiKey(database: Database, key: string, now = Date.now()): Promise<Resolved | null> {
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return null;
  const { t } = database;
  const [row] = (await keyLookup(database).execute({ hash: hashToken(key), now })) as KeyRow[];
  if (!row) return null;
  if (row.lastUsedAt === null || now - row.lastUsedAt > LAST_USED_GRANULARITY_MS) {
    await database.db.update(t.apiKeys).set({ lastUsedAt: now }).where(eq(t.apiKeys.id, row.id));
  }
  const principal: Principal = { workspaceId: row.workspaceId, userId: row.userId, email: row.email, role: row.role, credential: { kind: "api_key", id: row.id, name: row.name }, ...(row.profileId ? { profileId: row.profileId } : {}) };
  return { principal, expiresAt: row.expiresAt };
}

async function profileExists(database: Database, workspaceId: string, profileId: string): Promise<boolean> {
  const { t } = database;
  const [row] = await database.db.select({ id: t.profiles.id }).from(t.profiles).where(and(eq(t.profiles.id, profileId), eq(t.profiles.workspaceId, workspaceId)));
  return row !== undefined;
}
