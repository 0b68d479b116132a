import { and, asc, count, eq, isNull, ne, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { newId } from "../crypto/tokens.ts";
import { deactivateUser, reactivateUser } from "../accounts/members.ts";
import { authChanged } from "../accounts/principal-cache.ts";
import type { Role } from "../accounts/principal.ts";
import { USER_SCHEMA, type ScimFault, type ScimFilter, type ScimUserFields } from "./resource.ts";
import { recordAudit } from "../audit/record.ts";

/** SCIM Users are the members of the token's workspace; the directory provisions and ends them. */

export type ScimUser = {
  userId: string;
  email: string;
  name: string;
  role: Role;
  createdAt: number;
  disabledAt: number | null;
  userName: string | null;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  updatedAt: number | null;
};

export type ScimResult<T> = { ok: true; value: T } | { ok: false; fault: ScimFault };

function selectUsers(database: Database) {
  const { t } = database;
  return database.db
    .select({
      userId: t.users.id,
      email: t.users.email,
      name: t.users.name,
      role: t.memberships.role,
      createdAt: t.users.createdAt,
      disabledAt: t.users.disabledAt,
      userName: t.scimProfiles.userName,
      externalId: t.scimProfiles.externalId,
      givenName: t.scimProfiles.givenName,
      familyName: t.scimProfiles.familyName,
      updatedAt: t.scimProfiles.updatedAt,
    })
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .leftJoin(t.scimProfiles, eq(t.scimProfiles.userId, t.users.id));
}

function filterCondition(database: Database, filter: ScimFilter) {
  const { t } = database;
  const value = filter.value.toLowerCase();
  switch (filter.attribute) {
    case "userName":
      return sql`lower(coalesce(${t.scimProfiles.userName}, ${t.users.email})) = ${value}`;
    case "email":
      return eq(t.users.email, value);
    case "externalId":
      return eq(t.scimProfiles.externalId, filter.value);
    case "id":
      return eq(t.users.id, filter.value);
  }
}

export function toScimResource(user: ScimUser, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [USER_SCHEMA],
    id: user.userId,
    ...(user.externalId ? { externalId: user.externalId } : {}),
    userName: user.userName ?? user.email,
    name: { formatted: user.name, ...(user.givenName ? { givenName: user.givenName } : {}), ...(user.familyName ? { familyName: user.familyName } : {}) },
    displayName: user.name,
    emails: [{ value: user.email, type: "work", primary: true }],
    active: user.disabledAt === null,
    meta: {
      resourceType: "User",
      created: new Date(user.createdAt).toISOString(),
      lastModified: new Date(user.updatedAt ?? user.createdAt).toISOString(),
      location: `${baseUrl}/scim/v2/Users/${user.userId}`,
    },
  };
}

export function toFields(user: ScimUser): ScimUserFields {
  return {
    userName: user.userName ?? user.email,
    email: user.email,
    externalId: user.externalId,
    givenName: user.givenName,
    familyName: user.familyName,
    displayName: user.name,
    active: user.disabledAt === null,
  };
}

export async function listScimUsers(
  database: Database,
  workspaceId: string,
  filter: ScimFilter | null,
  page: { startIndex: number; count: number },
): Promise<{ total: number; users: ScimUser[] }> {
  const { t } = database;
  const where = and(eq(t.memberships.workspaceId, workspaceId), filter ? filterCondition(database, filter) : undefined);
  const [total] = await database.db
    .select({ n: count() })
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .leftJoin(t.scimProfiles, eq(t.scimProfiles.userId, t.users.id))
    .where(where);
  const users = page.count === 0 ? [] : await selectUsers(database).where(where).orderBy(asc(t.users.createdAt), asc(t.users.id)).limit(page.count).offset(page.startIndex - 1);
  return { total: Number(total?.n ?? 0), users };
}

export async function getScimUser(database: Database, workspaceId: string, userId: string): Promise<ScimUser | null> {
  const { t } = database;
  const [user] = await selectUsers(database).where(and(eq(t.memberships.workspaceId, workspaceId), eq(t.users.id, userId)));
  return user ?? null;
}

function displayName(fields: ScimUserFields): string {
  return fields.displayName ?? ([fields.givenName, fields.familyName].filter(Boolean).join(" ") || fields.email);
}

async function conflicts(database: Database, workspaceId: string, fields: ScimUserFields, exceptUserId: string | null): Promise<ScimFault | null> {
  const { t } = database;
  const except = (column: typeof t.users.id | typeof t.scimProfiles.userId) => (exceptUserId ? ne(column, exceptUserId) : undefined);
  const [email] = await database.db.select({ id: t.users.id }).from(t.users).where(and(eq(t.users.email, fields.email), except(t.users.id)));
  if (email) return { status: 409, scimType: "uniqueness", detail: `A user with the email ${fields.email} already exists.` };
  const [userName] = await database.db
    .select({ id: t.scimProfiles.userId })
    .from(t.scimProfiles)
    .where(and(eq(t.scimProfiles.workspaceId, workspaceId), sql`lower(${t.scimProfiles.userName}) = ${fields.userName.toLowerCase()}`, except(t.scimProfiles.userId)));
  if (userName) return { status: 409, scimType: "uniqueness", detail: `A user with the userName ${fields.userName} already exists.` };
  return null;
}

async function saveProfile(database: Database, workspaceId: string, userId: string, fields: ScimUserFields, now: number): Promise<void> {
  const { t } = database;
  const profile = { userName: fields.userName, externalId: fields.externalId, givenName: fields.givenName, familyName: fields.familyName, updatedAt: now };
  await database.db
    .insert(t.scimProfiles)
    .values({ userId, workspaceId, createdAt: now, ...profile })
    .onConflictDoUpdate({ target: t.scimProfiles.userId, set: profile });
}

/**
 * A new member (role member, source sso): they sign in through the IdP and are linked by email.
 * Someone the directory deleted before (an account left without a workspace) comes back.
 */
export async function createScimUser(database: Database, workspaceId: string, fields: ScimUserFields, now = Date.now()): Promise<ScimResult<ScimUser>> {
  const { t } = database;
  const [former] = await database.db
    .select({ id: t.users.id })
    .from(t.users)
    .leftJoin(t.memberships, eq(t.memberships.userId, t.users.id))
    .where(and(eq(t.users.email, fields.email), isNull(t.memberships.userId)));
  const conflict = await conflicts(database, workspaceId, fields, former?.id ?? null);
  if (conflict) return { ok: false, fault: conflict };
  const userId = former?.id ?? newId();
  const disabled = fields.active ? { disabledAt: null, disabledReason: null } : { disabledAt: now, disabledReason: "directory" as const };
  await database.transaction(async (tx) => {
    if (former) await tx.update(t.users).set({ name: displayName(fields), source: "sso", ...disabled }).where(eq(t.users.id, userId));
    else await tx.insert(t.users).values({ id: userId, email: fields.email, name: displayName(fields), passwordHash: null, createdAt: now, source: "sso", ...disabled });
    await tx.insert(t.memberships).values({ workspaceId, userId, role: "member", createdAt: now });
    await recordAudit(database, tx, { workspaceId, action: "member.provisioned", target: `user:${userId}`, details: { email: fields.email, active: fields.active, returning: former !== undefined } });
  });
  await saveProfile(database, workspaceId, userId, fields, now);
  return { ok: true, value: (await getScimUser(database, workspaceId, userId))! };
}

/** PUT and PATCH end here: the full new state. active=false ends the member's access at once. */
export async function replaceScimUser(database: Database, workspaceId: string, current: ScimUser, fields: ScimUserFields, now = Date.now()): Promise<ScimResult<ScimUser>> {
  if (!fields.active && current.role === "owner") return { ok: false, fault: ownerFault("deactivated") };
  const conflict = await conflicts(database, workspaceId, fields, current.userId);
  if (conflict) return { ok: false, fault: conflict };
  const { t } = database;
  await database.transaction(async (tx) => {
    await tx.update(t.users).set({ email: fields.email, name: displayName(fields) }).where(eq(t.users.id, current.userId));
    await recordAudit(database, tx, { workspaceId, action: "member.updated", target: `user:${current.userId}`, details: { email: fields.email, emailChanged: fields.email !== current.email, active: fields.active } });
  });
  // The email is part of a remembered principal (and of the access log's view of it).
  if (fields.email !== current.email) await authChanged(database);
  await saveProfile(database, workspaceId, current.userId, fields, now);
  if (!fields.active && current.disabledAt === null) await deactivateUser(database, current.userId, "directory", now);
  if (fields.active && current.disabledAt !== null) await reactivateUser(database, current.userId);
  return { ok: true, value: (await getScimUser(database, workspaceId, current.userId))! };
}

/** Access ends as for a deactivation, and the person leaves the workspace; the account stays for the record. */
export async function deleteScimUser(database: Database, workspaceId: string, current: ScimUser, now = Date.now()): Promise<ScimResult<null>> {
  if (current.role === "owner") return { ok: false, fault: ownerFault("deleted") };
  const { t } = database;
  await deactivateUser(database, current.userId, "directory", now);
  await database.transaction(async (tx) => {
    await tx.delete(t.memberships).where(and(eq(t.memberships.workspaceId, workspaceId), eq(t.memberships.userId, current.userId)));
    await recordAudit(database, tx, { workspaceId, action: "member.removed", target: `user:${current.userId}`, details: { email: current.email } });
  });
  await authChanged(database);
  await database.db.delete(t.scimProfiles).where(eq(t.scimProfiles.userId, current.userId));
  return { ok: true, value: null };
}

function ownerFault(what: string): ScimFault {
  return { status: 400, scimType: "mutability", detail: `The workspace owner cannot be ${what} through SCIM: the gateway would be left without an owner.` };
}
