import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";

/** The workspace's profiles by id and name, for the forms that limit a key or an app to one. */
export async function listProfileChoices(database: Database, workspaceId: string): Promise<{ id: string; name: string }[]> {
  const { t } = database;
  return database.db.select({ id: t.profiles.id, name: t.profiles.name }).from(t.profiles).where(eq(t.profiles.workspaceId, workspaceId)).orderBy(t.profiles.name);
}
