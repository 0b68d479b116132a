import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { normalizeEmail } from "./accounts.ts";

const FREE_FAILURES = 3;
const MAX_DELAY_MS = 5 * 60_000;
const FORGET_AFTER_MS = 30 * 60_000;

/**
 * Failed sign-ins per email, in the database so every replica sees them. After a few free
 * failures each attempt must wait an exponentially growing time since the last failure.
 */
export async function signInWaitMs(database: Database, email: string, now = Date.now()): Promise<number> {
  const { t } = database;
  const [row] = await database.db.select().from(t.signInAttempts).where(eq(t.signInAttempts.email, normalizeEmail(email)));
  if (!row || now - row.lastFailureAt > FORGET_AFTER_MS || row.failures < FREE_FAILURES) return 0;
  const delay = Math.min(1000 * 2 ** (row.failures - FREE_FAILURES), MAX_DELAY_MS);
  return Math.max(0, row.lastFailureAt + delay - now);
}

export async function recordSignInFailure(database: Database, email: string, now = Date.now()): Promise<void> {
  const { t } = database;
  await database.db
    .insert(t.signInAttempts)
    .values({ email: normalizeEmail(email), failures: 1, lastFailureAt: now })
    .onConflictDoUpdate({
      target: t.signInAttempts.email,
      set: {
        failures: sql`case when ${now} - ${t.signInAttempts.lastFailureAt} > ${FORGET_AFTER_MS} then 1 else ${t.signInAttempts.failures} + 1 end`,
        lastFailureAt: now,
      },
    });
}

export async function clearSignInFailures(database: Database, email: string): Promise<void> {
  await database.db.delete(database.t.signInAttempts).where(eq(database.t.signInAttempts.email, normalizeEmail(email)));
}
