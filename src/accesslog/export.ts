import type { Database } from "../db/client.ts";
import { listAccessLog, MAX_PAGE, type AccessLogFilter, type AccessLogRow } from "./query.ts";

/**
 * The filtered log as a file, newest first: CSV (for spreadsheets) or JSON lines (for scripts).
 * Streamed: the stream asks the database for the next page (keyset on the id) only when the
 * client has taken the last one, so a month of rows never sits in memory, however slow the reader.
 */

export type ExportFormat = "csv" | "jsonl";

export const EXPORT_TYPES: Record<ExportFormat, string> = { csv: "text/csv; charset=utf-8", jsonl: "application/x-ndjson; charset=utf-8" };

const COLUMNS = ["id", "time", "connection", "tool", "user", "credential", "outcome", "latency_ms", "error", "own_credential"] as const;

/**
 * One CSV field. Quotes, commas and line breaks are quoted (RFC 4180). A text that a spreadsheet
 * would run as a formula (starting with =, +, -, @, tab or carriage return) gets a leading
 * apostrophe: tool names and error text come from upstreams, and an export is opened by people.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function credentialOf(row: AccessLogRow): string | null {
  if (row.apiKeyName) return `key ${row.apiKeyName}`;
  if (row.oauthClientName) return `OAuth app ${row.oauthClientName}`;
  return row.apiKeyId ? "a removed key" : "dashboard";
}

function csvLine(row: AccessLogRow): string {
  const cells = [row.id, new Date(row.at).toISOString(), row.connectionName, row.tool, row.userEmail, credentialOf(row), row.outcome, row.latencyMs, row.errorSummary, row.credentialUserId ? "yes" : "no"];
  return cells.map(csvCell).join(",") + "\r\n";
}

function jsonLine(row: AccessLogRow): string {
  return JSON.stringify({ ...row, time: new Date(row.at).toISOString() }) + "\n";
}

export function exportAccessLog(database: Database, workspaceId: string, filter: AccessLogFilter, format: ExportFormat, pageSize = MAX_PAGE): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let before: string | undefined;
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started && format === "csv") controller.enqueue(encoder.encode(COLUMNS.join(",") + "\r\n"));
        started = true;
        const page = await listAccessLog(database, workspaceId, { ...filter, before, limit: pageSize });
        const line = format === "csv" ? csvLine : jsonLine;
        if (page.entries.length > 0) controller.enqueue(encoder.encode(page.entries.map(line).join("")));
        if (page.next === null) controller.close();
        else before = page.next;
      },
    },
    // One page queued ahead at most: the next is read when the client has taken this one.
    { highWaterMark: 1 },
  );
}

export function exportFileName(format: ExportFormat, now: number): string {
  return `access-log-${new Date(now).toISOString().slice(0, 19).replaceAll(":", "-")}.${format}`;
}
