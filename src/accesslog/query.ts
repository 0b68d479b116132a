import { and, desc, eq, gte, lt, lte, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Database, Tables } from "../db/client.ts";
import type { Outcome } from "./recorder.ts";
import { isAdmin, type Principal } from "../accounts/principal.ts";

export type AccessLogRow = Tables["accessLog"]["$inferSelect"] & { userEmail: string | null; apiKeyName: string | null; oauthClientName: string | null };
/**
 * `connection` and `tool` match anywhere in the name, ignoring case; `from` and `to` are epoch ms,
 * both inclusive; `before` is the id of the last row of the previous page (ids sort by time).
 */
export type AccessLogFilter = { connection?: string; tool?: string; outcome?: Outcome; userId?: string; from?: number; to?: number; before?: string; limit?: number };

export const OUTCOMES = ["ok", "tool_error", "upstream_error", "denied", "paused"] as const satisfies readonly Outcome[];
/** The largest page a reader may ask for; the export walks the log in pages of this size. */
export const MAX_PAGE = 1000;

/**
 * Whose calls a principal may read: admins and owners the workspace's (or the one user they filter
 * by), members only their own, whatever they asked for. Every reader of the log goes through this.
 */
export function userScope(principal: Principal, requested: string | undefined): string | undefined {
  return isAdmin(principal) ? requested || undefined : principal.userId;
}

/** `lower(column) LIKE %text%` with the user's `%`, `_` and `\` taken literally, the same on both dialects. */
function contains(column: SQLiteColumn, text: string): SQL {
  const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql`lower(${column}) like ${pattern} escape '\\'`;
}

function conditions(database: Database, workspaceId: string, filter: AccessLogFilter): SQL | undefined {
  const { t } = database;
  return and(
    eq(t.accessLog.workspaceId, workspaceId),
    filter.connection ? contains(t.accessLog.connectionName, filter.connection) : undefined,
    filter.tool ? contains(t.accessLog.tool, filter.tool) : undefined,
    filter.outcome ? eq(t.accessLog.outcome, filter.outcome) : undefined,
    filter.userId ? eq(t.accessLog.userId, filter.userId) : undefined,
    filter.from !== undefined ? gte(t.accessLog.at, filter.from) : undefined,
    filter.to !== undefined ? lte(t.accessLog.at, filter.to) : undefined,
    filter.before ? lt(t.accessLog.id, filter.before) : undefined,
  );
}

function selectRows(database: Database) {
  const { t } = database;
  return database.db
    .select({ entry: t.accessLog, userEmail: t.users.email, apiKeyName: t.apiKeys.name, oauthClientName: t.oauthGrants.clientName })
    .from(t.accessLog)
    .leftJoin(t.users, eq(t.users.id, t.accessLog.userId))
    .leftJoin(t.apiKeys, eq(t.apiKeys.id, t.accessLog.apiKeyId))
    // A call with an OAuth access token records its grant where a key id would be.
    .leftJoin(t.oauthGrants, eq(t.oauthGrants.id, t.accessLog.apiKeyId));
}

type Joined = { entry: Tables["accessLog"]["$inferSelect"]; userEmail: string | null; apiKeyName: string | null; oauthClientName: string | null };
const flatten = (r: Joined): AccessLogRow => ({ ...r.entry, userEmail: r.userEmail, apiKeyName: r.apiKeyName, oauthClientName: r.oauthClientName });

/** Newest first, a page at a time (keyset on the id, so a page costs the same however deep). */
export async function listAccessLog(database: Database, workspaceId: string, filter: AccessLogFilter = {}): Promise<{ entries: AccessLogRow[]; next: string | null }> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), MAX_PAGE);
  const rows = await selectRows(database)
    .where(conditions(database, workspaceId, filter))
    .orderBy(desc(database.t.accessLog.id))
    .limit(limit + 1);
  const entries = rows.slice(0, limit).map(flatten);
  return { entries, next: rows.length > limit ? (entries.at(-1)?.id ?? null) : null };
}

/** One call, if the reader may see it (`userId`: a member's own scope, as userScope gives it). */
export async function getAccessLogEntry(database: Database, workspaceId: string, id: string, userId: string | undefined): Promise<AccessLogRow | null> {
  const { t } = database;
  const [row] = await selectRows(database).where(and(eq(t.accessLog.workspaceId, workspaceId), eq(t.accessLog.id, id), userId ? eq(t.accessLog.userId, userId) : undefined));
  return row ? flatten(row) : null;
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
