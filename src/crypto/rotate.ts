import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { decryptSecret, encryptSecret, type Keyring } from "./encryption.ts";

/** Every table that holds a sealed secret, with how its rows bind their ciphertexts. */
function sealedRows(database: Database) {
  const { t } = database;
  return [
    {
      table: "credentials",
      load: (db: Database["db"]) => db.select({ rowId: t.credentials.connectionId, workspaceId: t.credentials.workspaceId, ciphertext: t.credentials.ciphertext, keyVersion: t.credentials.keyVersion }).from(t.credentials),
      save: (tx: Database["db"], rowId: string, ciphertext: string, keyVersion: number) => tx.update(t.credentials).set({ ciphertext, keyVersion }).where(eq(t.credentials.connectionId, rowId)),
    },
    {
      table: "oauth_flows",
      load: (db: Database["db"]) => db.select({ rowId: t.oauthFlows.stateHash, workspaceId: t.oauthFlows.workspaceId, ciphertext: t.oauthFlows.ciphertext, keyVersion: t.oauthFlows.keyVersion }).from(t.oauthFlows),
      save: (tx: Database["db"], rowId: string, ciphertext: string, keyVersion: number) => tx.update(t.oauthFlows).set({ ciphertext, keyVersion }).where(eq(t.oauthFlows.stateHash, rowId)),
    },
    {
      table: "sso_providers",
      load: (db: Database["db"]) => db.select({ rowId: t.ssoProviders.id, workspaceId: t.ssoProviders.workspaceId, ciphertext: t.ssoProviders.ciphertext, keyVersion: t.ssoProviders.keyVersion }).from(t.ssoProviders),
      save: (tx: Database["db"], rowId: string, ciphertext: string, keyVersion: number) => tx.update(t.ssoProviders).set({ ciphertext, keyVersion }).where(eq(t.ssoProviders.id, rowId)),
    },
    {
      table: "sso_flows",
      load: (db: Database["db"]) => db.select({ rowId: t.ssoFlows.stateHash, workspaceId: t.ssoFlows.workspaceId, ciphertext: t.ssoFlows.ciphertext, keyVersion: t.ssoFlows.keyVersion }).from(t.ssoFlows),
      save: (tx: Database["db"], rowId: string, ciphertext: string, keyVersion: number) => tx.update(t.ssoFlows).set({ ciphertext, keyVersion }).where(eq(t.ssoFlows.stateHash, rowId)),
    },
    {
      table: "sso_refresh_tokens",
      load: (db: Database["db"]) => db.select({ rowId: t.ssoRefreshTokens.identityId, workspaceId: t.ssoRefreshTokens.workspaceId, ciphertext: t.ssoRefreshTokens.ciphertext, keyVersion: t.ssoRefreshTokens.keyVersion }).from(t.ssoRefreshTokens),
      save: (tx: Database["db"], rowId: string, ciphertext: string, keyVersion: number) => tx.update(t.ssoRefreshTokens).set({ ciphertext, keyVersion }).where(eq(t.ssoRefreshTokens.identityId, rowId)),
    },
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

/** Re-seals every stored secret with the keyring's current key, all or nothing. */
export async function rewrapSecrets(database: Database, keyring: Keyring): Promise<number> {
  let count = 0;
  await database.transaction(async (tx) => {
    for (const sealed of sealedRows(database)) {
      for (const row of await sealed.load(tx)) {
        if (row.keyVersion === keyring.current) continue;
        const binding = { table: sealed.table, column: "ciphertext", rowId: row.rowId, workspaceId: row.workspaceId };
        const plain = await decryptSecret(keyring, row.ciphertext, binding);
        const next = await encryptSecret(keyring, plain, binding);
        await sealed.save(tx, row.rowId, next.ciphertext, next.keyVersion);
        count++;
      }
    }
  });
  return count;
}
