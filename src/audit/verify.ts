import { asc, eq, gt } from "drizzle-orm";
import type { Database, Tables } from "../db/client.ts";
import type { Keyring } from "../crypto/encryption.ts";
import { GENESIS_HASH, hashEntry } from "./chain.ts";
import { checkAnchor, readAnchor } from "./anchor.ts";

export type VerifyResult =
  | { ok: true; entries: number; firstSeq: number | null; lastSeq: number | null; head: string; anchoredSeq: number | null }
  | { ok: false; seq: number | null; problem: string };

type Entry = Tables["auditEvents"]["$inferSelect"];

/** Entries read at once: memory stays flat whatever the trail's length. */
const PAGE = 1000;

/**
 * Recomputes the chain from its start (the genesis, or the signed anchor retention left) and names
 * the first entry that was changed, removed or reordered. An entry's own hash checks its contents;
 * its `prev_hash` checks that the entry before it is the one it was appended after.
 *
 * What no chain can show on its own: entries cut from the end. The result's `head` (the last hash)
 * is what to keep elsewhere and compare with later.
 */
export async function verifyAuditTrail(database: Database, keyring: Keyring, options: { afterPage?: (page: number) => void } = {}): Promise<VerifyResult> {
  const { t } = database;
  const anchor = await readAnchor(database);
  if (anchor) {
    const check = await checkAnchor(keyring, anchor);
    if (check === "unknown_key") {
      return { ok: false, seq: null, problem: `The retention anchor (entries up to #${anchor.seq} removed) was signed with a key this gateway does not have (key version ${anchor.keyVersion}): give it that key (GATEWAY_ENCRYPTION_KEY_PREVIOUS) to check it.` };
    }
    if (check === "forged") {
      return { ok: false, seq: null, problem: `The retention anchor (entries up to #${anchor.seq} removed) has a signature that does not match: it was changed or forged, not written by this gateway's retention.` };
    }
  }
  let expectedSeq = anchor ? anchor.seq + 1 : 1;
  let prevHash = anchor?.hash ?? GENESIS_HASH;
  let entries = 0;
  let firstSeq: number | null = null;
  for (let cursor = anchor?.seq ?? 0, pages = 0; ; pages++) {
    const page = await database.db.select().from(t.auditEvents).where(gt(t.auditEvents.seq, cursor)).orderBy(asc(t.auditEvents.seq)).limit(PAGE);
    for (const entry of page) {
      const problem = await checkEntry(database, entry, expectedSeq, prevHash);
      if (problem) return { ok: false, ...problem };
      firstSeq ??= entry.seq;
      entries++;
      prevHash = entry.hash;
      expectedSeq = entry.seq + 1;
    }
    if (page.length < PAGE) break;
    cursor = page[page.length - 1]!.seq;
    options.afterPage?.(pages);
  }
  return { ok: true, entries, firstSeq, lastSeq: entries > 0 ? expectedSeq - 1 : null, head: prevHash, anchoredSeq: anchor?.seq ?? null };
}

async function checkEntry(database: Database, entry: Entry, expectedSeq: number, prevHash: string): Promise<{ seq: number; problem: string } | null> {
  if (hashEntry(entry) !== entry.hash) {
    return { seq: entry.seq, problem: `Entry #${entry.seq} (${describe(entry)}) was changed: its contents no longer match its hash.` };
  }
  if (entry.prevHash === prevHash) {
    if (entry.seq === expectedSeq) return null;
    return { seq: expectedSeq, problem: `Entry #${expectedSeq} is missing: the entry after #${expectedSeq - 1} is numbered #${entry.seq} (the trail was renumbered).` };
  }
  // The entry it was appended after is elsewhere, or gone.
  const { t } = database;
  const [named] = await database.db.select({ seq: t.auditEvents.seq }).from(t.auditEvents).where(eq(t.auditEvents.hash, entry.prevHash)).limit(1);
  if (named && named.seq > entry.seq) {
    return { seq: entry.seq, problem: `Entries were reordered at #${entry.seq} (${describe(entry)}): it was appended after the entry now numbered #${named.seq}.` };
  }
  if (entry.seq > expectedSeq) {
    const gone = entry.seq - expectedSeq === 1 ? `Entry #${expectedSeq} was` : `Entries #${expectedSeq} to #${entry.seq - 1} were`;
    return { seq: expectedSeq, problem: `${gone} removed: #${entry.seq} (${describe(entry)}) follows #${expectedSeq - 1} but was appended after another entry.` };
  }
  if (expectedSeq === 1 || named === undefined) {
    const before = expectedSeq - 1 >= 1 ? `#${expectedSeq - 1}` : "the start of the trail";
    return { seq: entry.seq, problem: `The entry before #${entry.seq} (${describe(entry)}) was removed or replaced: #${entry.seq} was appended after an entry that is not ${before}.` };
  }
  return { seq: entry.seq, problem: `Entries were reordered at #${entry.seq} (${describe(entry)}): it was appended after the entry now numbered #${named.seq}.` };
}

function describe(entry: Entry): string {
  return `${entry.action} at ${new Date(entry.at).toISOString()}`;
}
