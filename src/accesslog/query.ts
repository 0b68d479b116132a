import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Database, Tables } from "../db/client.ts";
import type { Outcome } from "./recorder.ts";
import { isAdmin, type Principal } from "../accounts/principal.ts";

export type AccessLogRow = Tables["accessLog"]["$inferSelect"] & { userEmail: string | null; apiKeyName: string | null; oauthClientName: string | null };
export type AccessLogFilter = { connection?: string; tool?: string; outcome?: Outcome; userId?: string; before?: string; limit?: number };

export const OUTCOMES = ["ok", "tool_error", "upstream_error", "denied", "paused"] as const satisfies readonly Outcome[];

/**
 * Whose calls a principal may read: admins and owners the workspace's (or the one user they filter
 * by), members only their own, whatever they asked for. Every reader of the log goes through this.
 */
export function userScope(principal: Principal, requested: string | undefined): string | undefined {
  return isAdmin(principal) ? requested || undefined : principal.userId;
}

/** Newest first; `before` is the id of the last row of the previous page (ids sort by time). */
export async function listAccessLog(database: Database, workspaceId: string, filter: AccessLogFilter = {}): Promise<{ entries: AccessLogRow[]; next: string | null }> {
  const { t } = database;
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
  const conditions: (SQL | undefined)[] = [
    eq(t.accessLog.workspaceId, workspaceId),
    filter.connection ? eq(t.accessLog.connectionName, filter.connection) : undefined,
    filter.tool ? eq(t.accessLog.tool, filter.tool) : undefined,
    filter.outcome ? eq(t.accessLog.outcome, filter.outcome) : undefined,
    filter.userId ? eq(t.accessLog.userId, filter.userId) : undefined,
    filter.before ? lt(t.accessLog.id, filter.before) : undefined,
  ];
  const rows = await database.db
    .select({ entry: t.accessLog, userEmail: t.users.email, apiKeyName: t.apiKeys.name, oauthClientName: t.oauthGrants.clientName })
    .from(t.accessLog)
    .leftJoin(t.users, eq(t.users.id, t.accessLog.userId))
    .leftJoin(t.apiKeys, eq(t.apiKeys.id, t.accessLog.apiKeyId))
    // A call with an OAuth access token records its grant where a key id would be.
    .leftJoin(t.oauthGrants, eq(t.oauthGrants.id, t.accessLog.apiKeyId))
    .where(and(...conditions))
    .orderBy(desc(t.accessLog.id))
    .limit(limit + 1);
  const entries = rows.slice(0, limit).map((r) => ({ ...r.entry, userEmail: r.userEmail, apiKeyName: r.apiKeyName, oauthClientName: r.oauthClientName }));
  return { entries, next: rows.length > limit ? (entries.at(-1)?.id ?? null) : null };
}

/** The workspace's members, for the access log's user filter. */
export async function listWorkspaceUsers(database: Database, workspaceId: string): Promise<{ id: string; email: string }[]> {
  const { t } = database;
  return database.db
    .select({ id: t.users.id, email: t.users.email })
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .where(eq(t.memberships.workspaceId, workspaceId))
    .orderBy(t.users.email);
}
