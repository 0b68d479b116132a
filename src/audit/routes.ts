import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { HttpError } from "../web/http.ts";
import { withDeps } from "../web/plugin.ts";
import { exportAuditStream, parseExportTime, type ExportRange } from "./export.ts";

/** The export's range from `?from=&to=`; a bad value is the caller's to fix. */
function readRange(request: Request, workspaceId: string): ExportRange {
  const url = new URL(request.url);
  const from = parseExportTime(url.searchParams.get("from"));
  const to = parseExportTime(url.searchParams.get("to"));
  if (from === "invalid" || to === "invalid") throw new HttpError(422, "from and to take a date (2026-12-01) or an ISO time (2026-12-01T08:00:00Z).");
  return { from, to, workspaceId };
}

function ndjson(stream: ReadableStream<Uint8Array>): Response {
  const day = new Date().toISOString().slice(0, 10);
  return new Response(stream, {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="audit-${day}.jsonl"`,
      "cache-control": "no-store",
    },
  });
}

/**
 * The workspace's audit trail as JSON lines, streamed page by page (constant memory): the
 * dashboard's button (`/audit/export`, admins) and the JSON API (`/api/v1/audit/export`, an admin's key).
 */
export function auditRoutes(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "audit" })
    .use(withDeps(deps))
    .get("/audit/export", ({ request, principal }) => ndjson(exportAuditStream(deps.database, readRange(request, principal.workspaceId))), { admin: true })
    .get("/api/v1/audit/export", ({ request, principal }) => ndjson(exportAuditStream(deps.database, readRange(request, principal.workspaceId))), { apiAdmin: true });
}
