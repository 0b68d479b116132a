import { and, desc, eq, gte, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client.ts";

/**
 * Usage at a glance, from the access log: calls, errors (every outcome but ok) and p50/p95 latency
 * over the last hour, day or week, per connection, per tool, or for everything a reader may see.
 *
 * How it stays cheap on both dialects: every query is a range on (workspace, connection, at) or
 * (workspace, at), both indexed (schema.ts). Calls and errors are counted over the whole window.
 * Percentiles are nearest-rank, computed in SQL with window functions both SQLite (3.25+) and
 * Postgres have: rows are ranked by latency within each group and p is the smallest latency whose
 * rank r satisfies r·100 ≥ p·n. They are ranked over a bounded sample — the window's most recent
 * PERCENTILE_SAMPLE calls, exact below that — because ranking a busy week's every row cost
 * seconds on SQLite (bench/access-log-export.ts, bench/README.md); nothing is shipped to the gateway.
 */

/** Calls ranked for p50/p95: the most recent this many of a window. */
export const PERCENTILE_SAMPLE = 10_000;

export type UsageWindow = "hour" | "day" | "week";
export const WINDOW_MS: Record<UsageWindow, number> = { hour: 3600_000, day: 24 * 3600_000, week: 7 * 24 * 3600_000 };
/** Bars in a chart: 12 × 5 min, 24 × 1 h, 28 × 6 h. */
export const BUCKETS: Record<UsageWindow, number> = { hour: 12, day: 24, week: 28 };

export type UsageStats = { calls: number; errors: number; p50: number | null; p95: number | null };
export type UsageScope = { connection?: string; userId?: string };

const EMPTY: UsageStats = { calls: 0, errors: 0, p50: null, p95: null };

function scopeWhere(database: Database, workspaceId: string, scope: UsageScope, since: number): SQL | undefined {
  const { t } = database;
  return and(
    eq(t.accessLog.workspaceId, workspaceId),
    scope.connection !== undefined ? eq(t.accessLog.connectionName, scope.connection) : undefined,
    scope.userId !== undefined ? eq(t.accessLog.userId, scope.userId) : undefined,
    gte(t.accessLog.at, since),
  );
}

const num = (value: unknown): number => Number(value ?? 0);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/**
 * Stats per value of `group` (a tool, a connection, or the workspace for one total). Calls and
 * errors are counted over the whole window; the percentiles are ranked over its most recent
 * PERCENTILE_SAMPLE calls (all of them in a quieter window), so a busy week costs a bounded sort.
 */
async function statsBy(database: Database, where: SQL | undefined, group: SQLiteColumn): Promise<Map<string, UsageStats>> {
  const { t } = database;
  const counted = await database.db
    .select({ key: sql<string>`${group}`, calls: sql<number>`count(*)`, errors: sql<number>`sum(case when ${t.accessLog.outcome} = 'ok' then 0 else 1 end)` })
    .from(t.accessLog)
    .where(where)
    .groupBy(group);
  const recent = database.db
    .select({ key: sql<string>`${group}`.as("key"), latency: sql<number>`${t.accessLog.latencyMs}`.as("latency") })
    .from(t.accessLog)
    .where(where)
    .orderBy(desc(t.accessLog.at))
    .limit(PERCENTILE_SAMPLE)
    .as("recent");
  const ranked = database.db
    .select({
      key: sql<string>`${recent.key}`.as("rkey"),
      latency: sql<number>`${recent.latency}`.as("rlatency"),
      rank: sql<number>`row_number() over (partition by ${recent.key} order by ${recent.latency})`.as("rank"),
      total: sql<number>`count(*) over (partition by ${recent.key})`.as("total"),
    })
    .from(recent)
    .as("ranked");
  const percentiles = await database.db
    .select({
      key: ranked.key,
      p50: sql<number | null>`min(case when ${ranked.rank} * 100 >= ${ranked.total} * 50 then ${ranked.latency} end)`,
      p95: sql<number | null>`min(case when ${ranked.rank} * 100 >= ${ranked.total} * 95 then ${ranked.latency} end)`,
    })
    .from(ranked)
    .groupBy(sql`${ranked.key}`);
  const byKey = new Map(percentiles.map((r) => [String(r.key ?? ""), r]));
  return new Map(
    counted.map((r) => {
      const key = String(r.key ?? "");
      const p = byKey.get(key);
      return [key, { calls: num(r.calls), errors: num(r.errors), p50: numOrNull(p?.p50), p95: numOrNull(p?.p95) }];
    }),
  );
}

/** Everything in scope over one window. */
export async function usageTotal(database: Database, workspaceId: string, scope: UsageScope, window: UsageWindow, now: number): Promise<UsageStats> {
  const stats = await statsBy(database, scopeWhere(database, workspaceId, scope, now - WINDOW_MS[window]), database.t.accessLog.workspaceId);
  return stats.get(workspaceId) ?? EMPTY;
}

export type UsageSummary = Record<UsageWindow, UsageStats>;

/** The three windows side by side: the strip above the access log, a connection's page. */
export async function summarizeUsage(database: Database, workspaceId: string, options: UsageScope & { now: number }): Promise<UsageSummary> {
  const scope = { connection: options.connection, userId: options.userId };
  const [hour, day, week] = await Promise.all((["hour", "day", "week"] as const).map((w) => usageTotal(database, workspaceId, scope, w, options.now)));
  return { hour: hour!, day: day!, week: week! };
}

/** Per tool of one connection, busiest first. */
export async function usageByTool(database: Database, workspaceId: string, connection: string, window: UsageWindow, now: number, userId?: string): Promise<({ tool: string } & UsageStats)[]> {
  const stats = await statsBy(database, scopeWhere(database, workspaceId, { connection, userId }, now - WINDOW_MS[window]), database.t.accessLog.tool);
  return [...stats].map(([tool, s]) => ({ tool, ...s })).sort((a, b) => b.calls - a.calls || a.tool.localeCompare(b.tool));
}

/** Per connection of the workspace (the connections list), in one query. */
export async function usageByConnection(database: Database, workspaceId: string, window: UsageWindow, now: number, userId?: string): Promise<Map<string, UsageStats>> {
  return statsBy(database, scopeWhere(database, workspaceId, { userId }, now - WINDOW_MS[window]), database.t.accessLog.connectionName);
}

export type UsageBucket = { start: number; calls: number; errors: number };

/** Calls and errors per bucket across the window, oldest first, empty buckets included: a chart's bars. */
export async function usageSeries(database: Database, workspaceId: string, scope: UsageScope, window: UsageWindow, now: number): Promise<UsageBucket[]> {
  const { t } = database;
  const count = BUCKETS[window];
  const size = WINDOW_MS[window] / count;
  const start = now - WINDOW_MS[window];
  // The bucket is named in a subquery: Postgres would not match a GROUP BY expression whose
  // parameters are numbered apart from the select list's.
  const bucketed = database.db
    .select({
      bucket: sql<number>`(${t.accessLog.at} - ${start}) / ${size}`.as("bucket"),
      failed: sql<number>`case when ${t.accessLog.outcome} = 'ok' then 0 else 1 end`.as("failed"),
    })
    .from(t.accessLog)
    .where(scopeWhere(database, workspaceId, scope, start))
    .as("bucketed");
  const rows = await database.db
    .select({ bucket: bucketed.bucket, calls: sql<number>`count(*)`, errors: sql<number>`sum(${bucketed.failed})` })
    .from(bucketed)
    .groupBy(sql`${bucketed.bucket}`);
  const buckets: UsageBucket[] = Array.from({ length: count }, (_, i) => ({ start: start + i * size, calls: 0, errors: 0 }));
  for (const row of rows) {
    const index = Math.min(Math.max(Math.floor(num(row.bucket)), 0), count - 1);
    buckets[index]!.calls += num(row.calls);
    buckets[index]!.errors += num(row.errors);
  }
  return buckets;
}

/** Every connection's series in one query (the connections list's cards). */
export async function usageSeriesByConnection(database: Database, workspaceId: string, window: UsageWindow, now: number, userId?: string): Promise<Map<string, UsageBucket[]>> {
  const { t } = database;
  const count = BUCKETS[window];
  const size = WINDOW_MS[window] / count;
  const start = now - WINDOW_MS[window];
  const bucketed = database.db
    .select({
      connection: sql<string>`${t.accessLog.connectionName}`.as("connection"),
      bucket: sql<number>`(${t.accessLog.at} - ${start}) / ${size}`.as("bucket"),
      failed: sql<number>`case when ${t.accessLog.outcome} = 'ok' then 0 else 1 end`.as("failed"),
    })
    .from(t.accessLog)
    .where(scopeWhere(database, workspaceId, { userId }, start))
    .as("bucketed");
  const rows = await database.db
    .select({ connection: bucketed.connection, bucket: bucketed.bucket, calls: sql<number>`count(*)`, errors: sql<number>`sum(${bucketed.failed})` })
    .from(bucketed)
    .groupBy(sql`${bucketed.connection}`, sql`${bucketed.bucket}`);
  const series = new Map<string, UsageBucket[]>();
  for (const row of rows) {
    const name = String(row.connection ?? "");
    let buckets = series.get(name);
    if (!buckets) {
      buckets = Array.from({ length: count }, (_, i) => ({ start: start + i * size, calls: 0, errors: 0 }));
      series.set(name, buckets);
    }
    const index = Math.min(Math.max(Math.floor(num(row.bucket)), 0), count - 1);
    buckets[index]!.calls += num(row.calls);
    buckets[index]!.errors += num(row.errors);
  }
  return series;
}

export function emptySeries(window: UsageWindow, now: number): UsageBucket[] {
  const size = WINDOW_MS[window] / BUCKETS[window];
  return Array.from({ length: BUCKETS[window] }, (_, i) => ({ start: now - WINDOW_MS[window] + i * size, calls: 0, errors: 0 }));
}

export function errorRate(stats: UsageStats): number | null {
  return stats.calls === 0 ? null : stats.errors / stats.calls;
}
