import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import { InvalidRequest, jsonResponse } from "../web/http.ts";
import type { Principal } from "../accounts/principal.ts";
import { listAccessLog, type AccessLogFilter } from "./query.ts";
import { readLogFilter } from "./filter.ts";
import { EXPORT_TYPES, exportAccessLog, exportFileName, type ExportFormat } from "./export.ts";

/** The filter in the query string, or 422 naming each field that could not be read. */
function filterOf(request: Request, principal: Principal): AccessLogFilter {
  const read = readLogFilter(new URL(request.url), principal);
  if (Object.keys(read.errors).length > 0) throw new InvalidRequest(read.errors);
  return read.query;
}

/**
 * GET /api/v1/access-log: the calls a key may read, newest first, a page at a time (`before`, `limit`).
 * GET /api/v1/access-log/export?format=csv|jsonl: every matching call, streamed. A member's key
 * reads only their own calls, as the dashboard shows them.
 */
export function accessLogApi(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "access-log-api" })
    .use(withDeps(deps))
    .get(
      "/api/v1/access-log",
      async ({ request, principal }) => {
        const url = new URL(request.url);
        const limit = url.searchParams.get("limit");
        const page = await listAccessLog(deps.database, principal.workspaceId, {
          ...filterOf(request, principal),
          before: url.searchParams.get("before") || undefined,
          limit: limit !== null ? Number(limit) || 50 : undefined,
        });
        return jsonResponse(page);
      },
      { apiKey: true },
    )
    .get(
      "/api/v1/access-log/export",
      async ({ request, principal }) => {
        const format = new URL(request.url).searchParams.get("format") ?? "jsonl";
        if (format !== "csv" && format !== "jsonl") throw new InvalidRequest({ format: "format must be csv or jsonl" });
        return exportResponse(deps, principal, filterOf(request, principal), format);
      },
      { apiKey: true },
    );
}

export function exportResponse(deps: AppDeps, principal: Principal, filter: AccessLogFilter, format: ExportFormat): Response {
  return new Response(exportAccessLog(deps.database, principal.workspaceId, filter, format), {
    headers: {
      "content-type": EXPORT_TYPES[format],
      "content-disposition": `attachment; filename="${exportFileName(format, deps.clock())}"`,
      "cache-control": "no-store",
    },
  });
}
