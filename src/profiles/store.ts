import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { newId } from "../crypto/tokens.ts";
import { recordAudit } from "../audit/record.ts";
import { checkProfileName } from "./names.ts";
import type { ProfileItemKind, ProfileMode } from "./limit.ts";
import { listPickable, pickableKey } from "./pickable.ts";

export type ProfileItem = { connectionId: string; kind: ProfileItemKind; name: string };
export type ProfileInput = { name: string; description: string; mode: string; items: ProfileItem[] };
export type ProfileRow = { id: string; name: string; description: string; mode: ProfileMode; createdAt: number; updatedAt: number };
export type ProfileSummary = ProfileRow & { itemCount: number; keys: string[]; apps: string[] };
export type SaveResult = { ok: true; id: string } | { ok: false; errors: Record<string, string> };
export type DeleteResult = { ok: true } | { ok: false; error: string };

const MAX_DESCRIPTION = 500;
const MAX_ITEMS = 5000;
const MODES: readonly ProfileMode[] = ["full", "search"];

/** The workspace's profiles, with how many items each has and which active keys and apps are limited to it. */
export async function listProfiles(database: Database, workspaceId: string): Promise<ProfileSummary[]> {
  const { t } = database;
  const rows = await database.db.select().from(t.profiles).where(eq(t.profiles.workspaceId, workspaceId)).orderBy(t.profiles.name);
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const items = await database.db.select({ profileId: t.profileItems.profileId }).from(t.profileItems).where(inArray(t.profileItems.profileId, ids));
  const users = await usersOf(database, workspaceId, ids);
  return rows.map((r) => ({
    id: r.id, name: r.name, description: r.description, mode: r.mode, createdAt: r.createdAt, updatedAt: r.updatedAt,
    itemCount: items.filter((i) => i.profileId === r.id).length,
    keys: users.keys.filter((k) => k.profileId === r.id).map((k) => k.name),
    apps: users.apps.filter((a) => a.profileId === r.id).map((a) => a.clientName),
  }));
}

export async function getProfile(database: Database, workspaceId: string, id: string): Promise<(ProfileRow & { items: ProfileItem[] }) | null> {
  const { t } = database;
  const [row] = await database.db.select().from(t.profiles).where(and(eq(t.profiles.id, id), eq(t.profiles.workspaceId, workspaceId)));
  if (!row) return null;
  const items = await database.db.select({ connectionId: t.profileItems.connectionId, kind: t.profileItems.kind, name: t.profileItems.name }).from(t.profileItems).where(eq(t.profileItems.profileId, id));
  return { id: row.id, name: row.name, description: row.description, mode: row.mode, createdAt: row.createdAt, updatedAt: row.updatedAt, items };
}

/**
 * Creates (no `id`) or replaces a profile and its items, in one transaction that ends with its
 * audit entry. Every item must be one the workspace's connections have (as last listed). The
 * caller tells the tool index, whose rebuild carries the profile to every replica.
 */
export async function saveProfile(database: Database, workspaceId: string, input: ProfileInput, id: string | null, now = Date.now()): Promise<SaveResult> {
  const errors: Record<string, string> = {};
  const name = input.name.trim();
  const nameError = checkProfileName(name);
  if (nameError) errors.name = nameError;
  const description = input.description.trim();
  if (description.length > MAX_DESCRIPTION) errors.description = `Use at most ${MAX_DESCRIPTION} characters.`;
  if (!MODES.includes(input.mode as ProfileMode)) errors.mode = "Pick Full (every tool listed) or Search (only search and call listed).";
  const unique = new Map(input.items.map((i) => [pickableKey(i.connectionId, i.kind, i.name), i]));
  if (unique.size > MAX_ITEMS) errors.items = `A profile holds at most ${MAX_ITEMS} items.`;
  const known = new Set((await listPickable(database, workspaceId)).flatMap((c) => c.items.map((i) => pickableKey(c.id, i.kind, i.name))));
  const unknown = [...unique.keys()].filter((k) => !known.has(k)).length;
  if (unknown > 0) errors.items = `${unknown} of the chosen items are not offered by this workspace's connections any more (a connection was removed or re-synced). Pick again from the list.`;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const { t } = database;
  const profileId = id ?? newId();
  const mode = input.mode as ProfileMode;
  return database.transaction(async (tx): Promise<SaveResult> => {
    const [taken] = await tx.select({ id: t.profiles.id }).from(t.profiles).where(and(eq(t.profiles.workspaceId, workspaceId), eq(t.profiles.name, name)));
    if (taken && taken.id !== profileId) return { ok: false, errors: { name: `This workspace already has a profile named ${name}. Pick another name.` } };
    if (id === null) {
      await tx.insert(t.profiles).values({ id: profileId, workspaceId, name, description, mode, createdAt: now, updatedAt: now });
    } else {
      const updated = await tx.update(t.profiles).set({ name, description, mode, updatedAt: now }).where(and(eq(t.profiles.id, id), eq(t.profiles.workspaceId, workspaceId))).returning({ id: t.profiles.id });
      if (updated.length === 0) return { ok: false, errors: { name: "This profile was deleted meanwhile. Create it again." } };
      await tx.delete(t.profileItems).where(eq(t.profileItems.profileId, id));
    }
    const rows = [...unique.values()].map((i) => ({ profileId, connectionId: i.connectionId, kind: i.kind, name: i.name }));
    // In batches: Postgres caps the parameters of one statement.
    for (let at = 0; at < rows.length; at += 500) await tx.insert(t.profileItems).values(rows.slice(at, at + 500));
    await recordAudit(database, tx, { workspaceId, action: id === null ? "profile.created" : "profile.updated", target: `profile:${profileId}`, details: { name, mode, items: rows.length } });
    return { ok: true, id: profileId };
  });
}

/**
 * Deletes a profile no active key or app is limited to. One that is still used is refused with a
 * sentence naming them: deleting it must not widen them to the whole workspace, and leaving them
 * limited to nothing would break clients without a word.
 */
export async function deleteProfile(database: Database, workspaceId: string, id: string): Promise<DeleteResult> {
  const { t } = database;
  return database.transaction(async (tx): Promise<DeleteResult> => {
    const [row] = await tx.select().from(t.profiles).where(and(eq(t.profiles.id, id), eq(t.profiles.workspaceId, workspaceId)));
    if (!row) return { ok: false, error: "This profile was already deleted." };
    const keys = await tx.select({ name: t.apiKeys.name }).from(t.apiKeys).where(and(eq(t.apiKeys.profileId, id), isNull(t.apiKeys.revokedAt)));
    const apps = await tx.select({ name: t.oauthGrants.clientName }).from(t.oauthGrants).where(and(eq(t.oauthGrants.profileId, id), isNull(t.oauthGrants.revokedAt)));
    if (keys.length + apps.length > 0) {
      const named = [...keys.map((k) => `key "${k.name}"`), ...apps.map((a) => `app "${a.name}"`)].join(", ");
      return { ok: false, error: `${row.name} is still the profile of ${named}. Revoke them, or move the apps to another profile, then delete it.` };
    }
    await tx.delete(t.profiles).where(eq(t.profiles.id, id));
    await recordAudit(database, tx, { workspaceId, action: "profile.deleted", target: `profile:${id}`, details: { name: row.name } });
    return { ok: true };
  });
}

async function usersOf(database: Database, workspaceId: string, ids: string[]): Promise<{ keys: { profileId: string | null; name: string }[]; apps: { profileId: string | null; clientName: string }[] }> {
  const { t } = database;
  const keys = await database.db.select({ profileId: t.apiKeys.profileId, name: t.apiKeys.name }).from(t.apiKeys).where(and(eq(t.apiKeys.workspaceId, workspaceId), inArray(t.apiKeys.profileId, ids), isNull(t.apiKeys.revokedAt)));
  const apps = await database.db.select({ profileId: t.oauthGrants.profileId, clientName: t.oauthGrants.clientName }).from(t.oauthGrants).where(and(eq(t.oauthGrants.workspaceId, workspaceId), inArray(t.oauthGrants.profileId, ids), isNull(t.oauthGrants.revokedAt)));
  return { keys, apps };
}
