import { eq } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client.ts";
import { decryptSecret, encryptSecret, type Keyring } from "./encryption.ts";
import { recordAudit } from "../audit/record.ts";
import { resignAnchor } from "../audit/anchor.ts";

type Sealed = {
  table: string;
  load(db: Database["db"]): Promise<{ rowId: string; workspaceId: string; ciphertext: string; keyVersion: number }[]>;
  save(tx: Database["db"], rowId: string, ciphertext: string, keyVersion: number): Promise<unknown>;
};

// Drizzle's table types differ per table; every sealed table has these four columns and a row id.
type SealedTable = SQLiteTable & { workspaceId: SQLiteColumn; ciphertext: SQLiteColumn; keyVersion: SQLiteColumn };

function sealed(table: string, t: SealedTable, rowId: SQLiteColumn): Sealed {
  return {
    table,
    load: (db) =>
      db.select({ rowId: rowId, workspaceId: t.workspaceId, ciphertext: t.ciphertext, keyVersion: t.keyVersion }).from(t) as unknown as ReturnType<Sealed["load"]>,
    save: (tx, id, ciphertext, keyVersion) => tx.update(t).set({ ciphertext, keyVersion } as never).where(eq(rowId, id)),
  };
}

/** Every table that holds a sealed secret, with the column its ciphertexts are bound to. */
function sealedRows(database: Database): Sealed[] {
  const { t } = database;
  return [
    sealed("credentials", t.credentials, t.credentials.connectionId),
    sealed("oauth_flows", t.oauthFlows, t.oauthFlows.stateHash),
    sealed("sso_providers", t.ssoProviders, t.ssoProviders.id),
    sealed("sso_flows", t.ssoFlows, t.ssoFlows.stateHash),
    sealed("sso_refresh_tokens", t.ssoRefreshTokens, t.ssoRefreshTokens.identityId),
    sealed("member_credentials", t.memberCredentials as unknown as SealedTable, t.memberCredentials.id),
  ];
}

export async function countSealedSecrets(database: Database): Promise<number> {
  let count = 0;
  for (const sealed of sealedRows(database)) count += (await sealed.load(database.db)).length;
  return count;
}

/** Key versions found in stored rows that the keyring cannot open: start-up refuses to run with any. */
export async function findUnknownKeyVersions(database: Database, keyring: Keyring): Promise<number[]> {
  const unknown = new Set<number>();
  for (const sealed of sealedRows(database)) {
    for (const row of await sealed.load(database.db)) if (!keyring.keys.has(row.keyVersion)) unknown.add(row.keyVersion);
  }
  return [...unknown];
}

type Rewrap = { ciphertext: string; next: { ciphertext: string; keyVersion: number } };

/** Unseals and reseals, outside any transaction: other requests' statements wait while one is open. */
async function prepareRewraps(database: Database, keyring: Keyring): Promise<Map<string, Rewrap>> {
  const rewraps = new Map<string, Rewrap>();
  for (const sealed of sealedRows(database)) {
    for (const row of await sealed.load(database.db)) {
      if (row.keyVersion === keyring.current) continue;
      const binding = { table: sealed.table, column: "ciphertext", rowId: row.rowId, workspaceId: row.workspaceId };
      const next = await encryptSecret(keyring, await decryptSecret(keyring, row.ciphertext, binding), binding);
      rewraps.set(`${sealed.table}:${row.rowId}`, { ciphertext: row.ciphertext, next });
    }
  }
  return rewraps;
}

/** A sealed row changed between preparing and writing: prepare again. */
class RowsChanged extends Error {}

const ATTEMPTS = 3;

/**
 * Re-seals every stored secret with the keyring's current key, all or nothing, and leaves no copy
 * of an old ciphertext in the database's files (see `Database.eraseOverwritten`).
 */
export async function rewrapSecrets(database: Database, keyring: Keyring): Promise<number> {
  const tables = sealedRows(database).map((s) => s.table);
  return database.eraseOverwritten(tables, async () => {
    for (let attempt = 1; ; attempt++) {
      const rewraps = await prepareRewraps(database, keyring);
      try {
        return await database.transaction(async (tx) => {
          // Exactly the rows prepared, still as they were: else a row would keep the old key.
          let count = 0;
          for (const sealed of sealedRows(database)) {
            for (const row of await sealed.load(tx)) {
              if (row.keyVersion === keyring.current) continue;
              const rewrap = rewraps.get(`${sealed.table}:${row.rowId}`);
              if (rewrap?.ciphertext !== row.ciphertext) throw new RowsChanged();
              await sealed.save(tx, row.rowId, rewrap.next.ciphertext, rewrap.next.keyVersion);
              count++;
            }
          }
          if (count !== rewraps.size) throw new RowsChanged();
          await resignAnchor(database, tx, keyring);
          await recordAudit(database, tx, { workspaceId: null, action: "encryption_key.rotated", target: null, details: { keyVersion: keyring.current, rewrapped: count } });
          return count;
        });
      } catch (error) {
        if (!(error instanceof RowsChanged) || attempt === ATTEMPTS) throw error;
      }
    }
  });
}
