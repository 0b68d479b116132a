import type { Principal } from "../accounts/principal.ts";
import { OUTCOMES, userScope, type AccessLogFilter } from "./query.ts";
import type { Outcome } from "./recorder.ts";

/**
 * The access log's filter as a query string carries it, read the same way by the page, its export
 * links and GET /api/v1/access-log[/export]: what was typed (to show it again) and the query it
 * means, or a message per field that could not be read.
 */

export type LogFilterValues = { connection: string; tool: string; outcome: string; user: string; from: string; to: string };
export type ReadFilter = { values: LogFilterValues; query: AccessLogFilter; errors: Record<string, string> };

const DAY_MS = 24 * 3600_000;

/**
 * A date (YYYY-MM-DD, a whole UTC day), a date and time (ISO 8601; without a zone, UTC), or epoch
 * milliseconds. `end` makes a bare date mean the last millisecond of that day, so "to 2026-12-06"
 * includes the 6th.
 */
export function parseTime(text: string, end: "start" | "end"): number | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const day = Date.parse(`${text}T00:00:00Z`);
    return Number.isNaN(day) ? null : end === "end" ? day + DAY_MS - 1 : day;
  }
  if (/^\d{1,16}$/.test(text)) return Number(text);
  // datetime-local sends "2026-12-06T14:30" with no zone: the page says times are UTC.
  const iso = /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(text) ? `${text}Z` : text;
  const parsed = Date.parse(iso);
  return Number.isNaN(parsed) ? null : parsed;
}

export function readLogFilter(url: URL, principal: Principal): ReadFilter {
  const get = (name: string): string => (url.searchParams.get(name) ?? "").trim().slice(0, 256);
  const values: LogFilterValues = { connection: get("connection"), tool: get("tool"), outcome: get("outcome"), user: get("user"), from: get("from"), to: get("to") };
  const errors: Record<string, string> = {};
  if (values.outcome && !OUTCOMES.includes(values.outcome as Outcome)) errors.outcome = `outcome must be one of ${OUTCOMES.join(", ")}`;
  const from = values.from ? parseTime(values.from, "start") : undefined;
  const to = values.to ? parseTime(values.to, "end") : undefined;
  if (from === null) errors.from = "Write the start as a date (2026-12-01), a date and time in UTC (2026-12-01T09:00), or epoch milliseconds.";
  if (to === null) errors.to = "Write the end as a date (2026-12-31), a date and time in UTC (2026-12-31T18:00), or epoch milliseconds.";
  if (typeof from === "number" && typeof to === "number" && from > to) errors.to = "The end is before the start.";
  const query: AccessLogFilter = {
    connection: values.connection || undefined,
    tool: values.tool || undefined,
    outcome: errors.outcome ? undefined : (values.outcome as Outcome) || undefined,
    // A member reads their own calls only, whatever the query asks for.
    userId: userScope(principal, values.user),
    from: from ?? undefined,
    to: to ?? undefined,
  };
  return { values, query, errors };
}

/** The values as a query string ("?a=b…" or ""), with `extra` on top: links keep the filter. */
export function filterQuery(values: Partial<LogFilterValues>, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...values, ...extra })) if (value) params.set(key, value);
  const query = params.toString();
  return query ? `?${query}` : "";
}
