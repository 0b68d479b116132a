import { and, eq } from "drizzle-orm";
import { createApiKey } from "../../src/accounts/api-keys.ts";
import { newId } from "../../src/crypto/tokens.ts";
import { api } from "./client.ts";
import type { TestGateway } from "./gateway.ts";

/**
 * People and rows a test needs around it, written straight to the database: the invite, setup and
 * add-connection flows have tests of their own, and setup refuses a second workspace by design.
 */

export type Member = { userId: string; key: string; call: ReturnType<typeof api> };

/** A member of `workspaceId`; with `password`, one who can sign in. Returns their user id. */
export async function insertMember(t: TestGateway, workspaceId: string, email: string, options: { password?: string } = {}): Promise<string> {
  const { database } = t.gateway.deps;
  const userId = newId();
  const passwordHash = options.password === undefined ? null : await Bun.password.hash(options.password, { algorithm: "argon2id" });
  await database.db.insert(database.t.users).values({ id: userId, email, name: email, passwordHash, createdAt: Date.now() });
  await database.db.insert(database.t.memberships).values({ workspaceId, userId, role: "member", createdAt: Date.now() });
  return userId;
}

/** A member of `workspaceId` with an API key, and the JSON API as they call it. */
export async function addMember(t: TestGateway, workspaceId: string, email: string, options: { password?: string } = {}): Promise<Member> {
  const userId = await insertMember(t, workspaceId, email, options);
  const key = await createApiKey(t.gateway.deps.database, { workspaceId, userId, name: "member" });
  if (!key.ok) throw new Error("key");
  return { userId, key: key.key, call: api(t.url, key.key) };
}

/** Another workspace ("B", owned by b@example.com) and its owner's API key. */
export async function addOtherTenant(t: TestGateway): Promise<{ workspaceId: string; userId: string; key: string }> {
  const { database } = t.gateway.deps;
  const now = Date.now();
  const userId = newId();
  const workspaceId = newId();
  await database.db.insert(database.t.users).values({ id: userId, email: "b@example.com", name: "b", passwordHash: null, createdAt: now });
  await database.db.insert(database.t.workspaces).values({ id: workspaceId, name: "B", createdAt: now });
  await database.db.insert(database.t.memberships).values({ workspaceId, userId, role: "owner", createdAt: now });
  const key = await createApiKey(database, { workspaceId, userId, name: "b" });
  if (!key.ok) throw new Error("key");
  return { workspaceId, userId, key: key.key };
}

/** The id of the connection named `name` in `workspaceId`. */
export async function connectionIdByName(t: TestGateway, workspaceId: string, name: string): Promise<string> {
  const { database } = t.gateway.deps;
  const [row] = await database.db
    .select({ id: database.t.connections.id })
    .from(database.t.connections)
    .where(and(eq(database.t.connections.workspaceId, workspaceId), eq(database.t.connections.name, name)));
  if (!row) throw new Error(`no connection ${name}`);
  return row.id;
}
