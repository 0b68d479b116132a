import { and, asc, desc, gte, lte, min } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { Keyring } from "../crypto/encryption.ts";
import { readAnchor, writeAnchor } from "./anchor.ts";
import { appendAuditEvents, lockAuditChain } from "./record.ts";
import type { Logger } from "../log.ts";

const DAY_MS = 86_400_000;

/**
 * Removes the oldest entries, those older than `days`, and leaves a signed anchor holding the last
 * removed entry's hash, so that what is kept still verifies. Only a run of old entries from the
 * start goes: an entry appended late with an earlier time (an access-log entry written after an
 * outage) stays until everything before it is old enough, so the chain is never cut in the middle.
 * The removal itself is an entry in the trail.
 */
export async function pruneAuditTrail(database: Database, keyring: Keyring, days: number, now = Date.now()): Promise<{ removed: number; throughSeq: number | null }> {
  const { t } = database;
  const cutoff = now - days * DAY_MS;
  return database.transaction(async (tx) => {
    await lockAuditChain(database, tx);
    const [firstNew] = await tx.select({ seq: min(t.auditEvents.seq) }).from(t.auditEvents).where(gte(t.auditEvents.at, cutoff));
    const [last] = await tx.select({ seq: t.auditEvents.seq }).from(t.auditEvents).orderBy(desc(t.auditEvents.seq)).limit(1);
    if (!last) return { removed: 0, throughSeq: null };
    const throughSeq = firstNew?.seq != null ? firstNew.seq - 1 : last.seq;
    const anchor = await readAnchor(database, tx);
    const [oldest] = await tx.select({ seq: t.auditEvents.seq }).from(t.auditEvents).orderBy(asc(t.auditEvents.seq)).limit(1);
    if (!oldest || throughSeq < oldest.seq) return { removed: 0, throughSeq: null };
    const [through] = await tx.select({ hash: t.auditEvents.hash }).from(t.auditEvents).where(lte(t.auditEvents.seq, throughSeq)).orderBy(desc(t.auditEvents.seq)).limit(1);
    await writeAnchor(database, tx, keyring, { seq: throughSeq, hash: through!.hash, removedAt: now });
    const removed = await tx
      .delete(t.auditEvents)
      .where(and(gte(t.auditEvents.seq, oldest.seq), lte(t.auditEvents.seq, throughSeq)))
      .returning({ seq: t.auditEvents.seq });
    await appendAuditEvents(database, tx, [
      {
        workspaceId: null,
        action: "audit.pruned",
        target: null,
        actor: "system",
        fromIp: null,
        fromUserAgent: null,
        details: { removed: removed.length, throughSeq, olderThanDays: days, previousAnchorSeq: anchor?.seq ?? null },
      },
    ], now);
    return { removed: removed.length, throughSeq };
  });
}

/** How often a serving gateway applies AUDIT_RETENTION_DAYS (and once at start). */
const PRUNE_EVERY_MS = 60 * 60_000;

/** Applies the retention setting in the background; returns the function that stops it. Nothing runs when `days` is 0. */
export function startAuditRetention(deps: { database: Database; keyring: Keyring; log: Logger }, days: number): () => void {
  if (days <= 0) return () => undefined;
  const run = (): void => {
    pruneAuditTrail(deps.database, deps.keyring, days).then(
      (result) => {
        if (result.removed > 0) deps.log.info("audit entries past retention removed", { removed: result.removed, throughSeq: result.throughSeq, days });
      },
      (error: unknown) => deps.log.warn("audit retention could not run; will try again", { error: error instanceof Error ? error.message : String(error) }),
    );
  };
  const first = setTimeout(run, 1000);
  const timer = setInterval(run, PRUNE_EVERY_MS);
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
