import { desc, getTableColumns, sql } from "drizzle-orm";
import { preparedOnce, type Database, type Db } from "../db/client.ts";
import { RowStatement } from "../db/row-statement.ts";
import { unnestInsert } from "../db/unnest-insert.ts";
import { canonicalJson, type ChainedFields, GENESIS_HASH, hashEntry } from "./chain.ts";
import { currentAuditOrigin } from "./context.ts";

/** What a service says happened; who and from where come from the request (context.ts). */
export type AuditInput = {
  workspaceId: string | null;
  /** `noun.verb`, e.g. `connection.added`, `api_key.revoked`, `tool.called`. */
  action: string;
  /** What it was done to: `connection:<id>`, `user:<id>`, … */
  target: string | null;
  /** Names, kinds, counts, outcomes: never a secret (see withholdSecrets). */
  details?: Record<string, unknown>;
  /** Set when the caller knows better than the request context (access-log entries, SCIM, the CLI). */
  actor?: string;
  fromIp?: string | null;
  fromUserAgent?: string | null;
  at?: number;
};

/**
 * Serialises appends across replicas: taken inside the appending transaction and released at its
 * end, so the next appender reads the last entry only after this one is committed. On SQLite the
 * transaction's write lock (BEGIN IMMEDIATE) does the same for every process on the file.
 */
const CHAIN_LOCK = "mcp-gateway audit trail";

/** Holds every other appender (and retention) off the chain until `tx` ends. */
export async function lockAuditChain(database: Database, tx: Db): Promise<void> {
  if (database.dialect !== "postgres") return;
  await (tx as unknown as { execute(query: ReturnType<typeof sql>): Promise<unknown> }).execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${CHAIN_LOCK}, 0))`,
  );
}

/** Records one admin action inside the transaction that makes the change: both commit, or neither. */
export function recordAudit(database: Database, tx: Db, input: AuditInput): Promise<void> {
  return appendAuditEvents(database, tx, [input]);
}

/**
 * Appends entries to the chain, in order, inside `tx` (a transaction of `database`). Call it last in
 * the transaction: the chain stays locked from here to the commit, so work after it holds up every
 * other appender.
 */
export async function appendAuditEvents(database: Database, tx: Db, inputs: AuditInput[], now = Date.now()): Promise<void> {
  if (inputs.length === 0) return;
  const { t } = database;
  await lockAuditChain(database, tx);
  // On Postgres the read must be `tx`'s own, to see what this transaction appended already.
  let [last] = database.dialect === "sqlite"
    ? await sqliteLast(database)
    : await tx.select({ seq: t.auditEvents.seq, hash: t.auditEvents.hash }).from(t.auditEvents).orderBy(desc(t.auditEvents.seq)).limit(1);
  // Retention may have removed every entry: the chain goes on from its anchor.
  if (!last) [last] = await tx.select({ seq: t.auditAnchors.seq, hash: t.auditAnchors.hash }).from(t.auditAnchors).limit(1);
  let seq = last?.seq ?? 0;
  let prevHash = last?.hash ?? GENESIS_HASH;
  const origin = currentAuditOrigin();
  const rows: AuditRow[] = [];
  for (const input of inputs) {
    const row: AuditRow = {
      seq: ++seq,
      at: input.at ?? now,
      workspaceId: input.workspaceId,
      actor: input.actor ?? origin?.actor ?? "system",
      fromIp: input.fromIp !== undefined ? input.fromIp : (origin?.ip ?? null),
      fromUserAgent: input.fromUserAgent !== undefined ? input.fromUserAgent : (origin?.userAgent ?? null),
      action: input.action,
      target: input.target,
      details: canonicalDetails(input.details ?? {}),
      prevHash,
      hash: "",
    };
    row.hash = hashEntry(row);
    rows.push(row);
    prevHash = row.hash;
  }
  if (database.dialect === "sqlite") {
    // One prepared row at a time: on SQLite a multi-row insert is built and prepared anew per batch
    // size, which cost more than the rows (bench/audit-accesslog.ts).
    const insert = statements(database).insertOne;
    for (const row of rows) {
      const written = insert.run(row);
      // A number at once inside the transaction; a promise only if the gate held it back.
      if (typeof written !== "number") await written;
    }
    return;
  }
  await unnestInsert(tx, t.auditEvents, rows);
}

/** A stored entry: the hashed fields, its place in the chain and its hash. */
type AuditRow = ChainedFields & { seq: number; hash: string };

// SQLite only: there a transaction is the connection's own (db/client.ts), so a statement prepared
// on the connection runs inside it. On Postgres one would run on another pooled connection.
// Bound by position (db/row-statement.ts): a call's entry is written per call, in bulk.
const statements = preparedOnce((database: Database) => {
  const { t } = database;
  const columns = Object.keys(getTableColumns(t.auditEvents));
  return {
    last: RowStatement.prepare(database, database.db.select({ seq: t.auditEvents.seq, hash: t.auditEvents.hash }).from(t.auditEvents).orderBy(desc(t.auditEvents.seq)).limit(1)),
    insertOne: RowStatement.prepare(database, database.db.insert(t.auditEvents).values(Object.fromEntries(columns.map((column) => [column, sql.placeholder(column)])) as never)),
  };
});

/** The chain's last entry on SQLite, as a list of none or one (the shape Postgres's select has). */
async function sqliteLast(database: Database): Promise<{ seq: number; hash: string }[]> {
  const last = (await statements(database).last.get()) as { seq: number; hash: string } | null;
  return last ? [last] : [];
}

/** Names that would hold a secret. A service passing one is a bug; the trail keeps the fact, not the value. */
const SECRET_NAMES = /secret|token|password|passphrase|ciphertext|authorization|credential|cookie|^(key|value|auth|header_value|headerValue)$/i;

export function withholdSecrets(details: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(details)) {
    // A flag or a count under such a name ("secretReplaced": true) says nothing secret.
    if (SECRET_NAMES.test(name) && typeof value !== "boolean" && typeof value !== "number" && value !== null) kept[name] = "[withheld]";
    else if (value !== null && typeof value === "object" && !Array.isArray(value)) kept[name] = withholdSecrets(value as Record<string, unknown>);
    else kept[name] = value;
  }
  return kept;
}

/**
 * `canonicalJson(withholdSecrets(details))`, the same text, in one pass when no value is an object
 * or an array (every call's entry): no copy to withhold from and a second to sort.
 */
export function canonicalDetails(details: Record<string, unknown>): string {
  const keys = Object.keys(details);
  for (const key of keys) {
    const value = details[key];
    if (value !== null && typeof value === "object") return canonicalJson(withholdSecrets(details));
  }
  const sorted: Record<string, unknown> = {};
  for (const key of inOrder(keys)) {
    const value = details[key];
    if (SECRET_NAMES.test(key) && typeof value !== "boolean" && typeof value !== "number" && value !== null) sorted[key] = "[withheld]";
    else if (value !== undefined) sorted[key] = value;
  }
  return JSON.stringify(sorted);
}

/** `keys` sorted; as they are when already in order (a call's entry is written so), without sorting. */
function inOrder(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort();
  return keys;
}

/** A URL for the trail: scheme, host and path; never userinfo, query or fragment, where keys hide. */
export function urlForAudit(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "(not a URL)";
  }
}
