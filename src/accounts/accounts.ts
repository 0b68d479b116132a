import { and, count, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { newId } from "../crypto/tokens.ts";
import type { Role } from "./principal.ts";

export type SetupInput = { email: string; password: string; name?: string; workspaceName?: string };
export type SetupResult =
  | { ok: true; userId: string; workspaceId: string }
  | { ok: false; errors: Record<string, string> };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const MIN_PASSWORD_LENGTH = 10;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function isSetupDone(database: Database): Promise<boolean> {
  const [row] = await database.db.select({ n: count() }).from(database.t.workspaces);
  return (row?.n ?? 0) > 0;
}

export function validateCredentials(email: string, password: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!EMAIL.test(normalizeEmail(email))) errors.email = "Enter an email address like you@example.com.";
  if (password.length < MIN_PASSWORD_LENGTH) errors.password = `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (password.length > 1024) errors.password = "Use at most 1024 characters.";
  return errors;
}

/** Creates the owner and the first workspace, once: refuses when any workspace exists. */
export async function setupOwner(database: Database, input: SetupInput, now = Date.now()): Promise<SetupResult> {
  const errors = validateCredentials(input.email, input.password);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const passwordHash = await Bun.password.hash(input.password, { algorithm: "argon2id" });
  const email = normalizeEmail(input.email);
  const { t } = database;
  return database.transaction(async (tx) => {
    const [existing] = await tx.select({ n: count() }).from(t.workspaces);
    if ((existing?.n ?? 0) > 0) return { ok: false, errors: { form: "This gateway is already set up. Sign in instead." } };
    const userId = newId();
    const workspaceId = newId();
    await tx.insert(t.users).values({ id: userId, email, name: input.name?.trim() || email, passwordHash, createdAt: now });
    await tx.insert(t.workspaces).values({ id: workspaceId, name: input.workspaceName?.trim() || "Default", createdAt: now });
    await tx.insert(t.memberships).values({ workspaceId, userId, role: "owner", createdAt: now });
    return { ok: true, userId, workspaceId };
  });
}

export type Member = { userId: string; email: string; name: string; workspaceId: string; role: Role };

/** The user's first workspace membership (one workspace per user for now). */
export async function findMemberByEmail(database: Database, email: string): Promise<(Member & { passwordHash: string | null }) | null> {
  const { t } = database;
  const [row] = await database.db
    .select({
      userId: t.users.id,
      email: t.users.email,
      name: t.users.name,
      passwordHash: t.users.passwordHash,
      workspaceId: t.memberships.workspaceId,
      role: t.memberships.role,
    })
    .from(t.users)
    .innerJoin(t.memberships, eq(t.memberships.userId, t.users.id))
    .where(and(eq(t.users.email, normalizeEmail(email)), isNull(t.users.disabledAt)))
    .limit(1);
  return row ?? null;
}

// Verifying against a fixed hash when the user does not exist keeps the timing the same.
let dummyHash: Promise<string> | null = null;

export async function verifyMemberPassword(database: Database, email: string, password: string): Promise<Member | null> {
  const member = await findMemberByEmail(database, email);
  dummyHash ??= Bun.password.hash("not-a-real-password-ever", { algorithm: "argon2id" });
  const hash = member?.passwordHash ?? (await dummyHash);
  const valid = await Bun.password.verify(password, hash).catch(() => false);
  if (!member?.passwordHash || !valid) return null;
  const { passwordHash: _, ...rest } = member;
  return rest;
}
