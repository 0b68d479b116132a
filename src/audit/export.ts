import { and, asc, eq, gt, gte, lt, type SQL } from "drizzle-orm";
import type { Database } from "../db/client.ts";

export type ExportRange = {
  /**
   * Called after each page is handed on. The CLI collects garbage there: Bun's collector otherwise
   * lets a long export's dead pages pile up (measured: 300,000 entries peaked at 169 MiB, against
   * 89 MiB with a collection every page; bench/README.md).
   */
  afterPage?: (page: number) => void;
  /** Epoch ms, inclusive; null for the start. */
  from: number | null;
  /** Epoch ms, exclusive; null for now. */
  to: number | null;
  /** Only this workspace's entries (the dashboard); null for all (the CLI). */
  workspaceId: string | null;
};

/** Entries read at once: one page in memory, whatever the range. */
const PAGE = 1000;

/**
 * The trail as JSON lines, one page at a time, by seq: a consumer that writes each chunk before it
 * asks for the next (a stream's pull, a `for await` that awaits its writes) holds one page at most.
 * Each line carries `prevHash` and `hash`, so an export can be checked on its own.
 */
export async function* exportAuditLines(database: Database, range: ExportRange): AsyncGenerator<string> {
  const { t } = database;
  for (let cursor = 0, pages = 0; ; pages++) {
    const conditions: SQL[] = [gt(t.auditEvents.seq, cursor)];
    if (range.from !== null) conditions.push(gte(t.auditEvents.at, range.from));
    if (range.to !== null) conditions.push(lt(t.auditEvents.at, range.to));
    if (range.workspaceId !== null) conditions.push(eq(t.auditEvents.workspaceId, range.workspaceId));
    const page = await database.db.select().from(t.auditEvents).where(and(...conditions)).orderBy(asc(t.auditEvents.seq)).limit(PAGE);
    if (page.length === 0) return;
    let chunk = "";
    for (const entry of page) {
      chunk += `${JSON.stringify({
        seq: entry.seq,
        at: new Date(entry.at).toISOString(),
        workspaceId: entry.workspaceId,
        actor: entry.actor,
        from: { ip: entry.fromIp, userAgent: entry.fromUserAgent },
        action: entry.action,
        target: entry.target,
        details: JSON.parse(entry.details) as unknown,
        prevHash: entry.prevHash,
        hash: entry.hash,
      })}\n`;
    }
    yield chunk;
    range.afterPage?.(pages);
    if (page.length < PAGE) return;
    cursor = page[page.length - 1]!.seq;
  }
}

/** `2026-12-01` or a full ISO time; null for a missing or unreadable value. */
export function parseExportTime(value: string | undefined | null): number | null | "invalid" {
  if (value === undefined || value === null || value === "") return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? "invalid" : at;
}

/** The same stream as a web body; pulled, so a slow client never makes the gateway buffer pages. */
export function exportAuditStream(database: Database, range: ExportRange): ReadableStream<Uint8Array> {
  const lines = exportAuditLines(database, range);
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}
