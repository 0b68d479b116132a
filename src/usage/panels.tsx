import type { Database } from "../db/client.ts";
import { userScope } from "../accesslog/query.ts";
import type { Principal } from "../accounts/principal.ts";
import { isAdmin } from "../accounts/principal.ts";
import { CardUsage, ConnectionUsage } from "../../views/usage.tsx";
import { emptySeries, summarizeUsage, usageByConnection, usageByTool, usageSeries, usageSeriesByConnection, type UsageWindow } from "./usage.ts";

/**
 * Usage, ready to place: the connection page's section and the connections list's card line.
 * A member sees their own calls (userScope), as on the access log. The routes pass the result
 * into the view's `usage` slot.
 */

export function readUsageWindow(url: URL): UsageWindow {
  const asked = url.searchParams.get("usage");
  return asked === "hour" || asked === "week" ? asked : "day";
}

export async function connectionUsagePanel(database: Database, principal: Principal, connection: { name: string; id: string }, window: UsageWindow, now: number): Promise<JSX.Element> {
  const userId = userScope(principal, undefined);
  const scope = { connection: connection.name, userId };
  const [summary, series, tools] = await Promise.all([
    summarizeUsage(database, principal.workspaceId, { ...scope, now }),
    usageSeries(database, principal.workspaceId, scope, "day", now),
    usageByTool(database, principal.workspaceId, connection.name, window, now, userId),
  ]);
  const path = `/connections/${encodeURIComponent(connection.id)}`;
  return <ConnectionUsage connection={connection.name} summary={summary} series={series} tools={tools} window={window} path={path} own={!isAdmin(principal)} />;
}

/** Two queries for the whole list, whatever its length. */
export async function cardUsagePanels(database: Database, principal: Principal, now: number): Promise<(c: { name: string }) => JSX.Element> {
  const userId = userScope(principal, undefined);
  const [stats, series] = await Promise.all([usageByConnection(database, principal.workspaceId, "day", now, userId), usageSeriesByConnection(database, principal.workspaceId, "day", now, userId)]);
  return (c) => <CardUsage connection={c.name} stats={stats.get(c.name) ?? { calls: 0, errors: 0, p50: null, p95: null }} series={series.get(c.name) ?? emptySeries("day", now)} />;
}
