import { existsSync } from "node:fs";
import type { Config } from "../config.ts";
import { openDatabase, type Database } from "../db/client.ts";
import { createKeyring, DecryptionError, type Keyring } from "./encryption.ts";
import { keyFilePath, readKeyFile, writeKeyFile } from "./key-file.ts";
import { findUnknownKeyVersions, rewrapSecrets } from "./rotate.ts";
import { decodeBase64 } from "@oslojs/encoding";

export type CommandOutput = { out(line: string): void; err(line: string): void };

/**
 * With a key file: makes a new key, keeps the old ones beside it while every row is rewrapped,
 * then drops them. With GATEWAY_ENCRYPTION_KEY: rewraps rows sealed with the keys in
 * GATEWAY_ENCRYPTION_KEY_PREVIOUS to the current key; the operator then removes the old ones.
 * Nothing changes unless every stored secret opens with the keys we have.
 */
export async function rotateKey(config: Config, io: CommandOutput): Promise<number> {
  const database = await openDatabase(config.database);
  try {
    if (config.encryptionKey) {
      if (config.previousEncryptionKeys.length === 0) {
        io.err("Set GATEWAY_ENCRYPTION_KEY to the new key and GATEWAY_ENCRYPTION_KEY_PREVIOUS to the old one(s), then run rotate-key again.");
        return 2;
      }
      const keyring = await createKeyring(decodeBase64(config.encryptionKey), config.previousEncryptionKeys.map((k) => decodeBase64(k)));
      if (!(await allSecretsOpen(database, keyring, io))) return 1;
      const count = await rewrapOrExplain(database, keyring, io);
      if (count === null) return 1;
      io.out(`Rewrapped ${count} stored secret(s). You can now remove GATEWAY_ENCRYPTION_KEY_PREVIOUS.`);
      return 0;
    }
    const path = keyFilePath(config.dataDir);
    if (!existsSync(path)) {
      io.err(`No key file at ${path} and no GATEWAY_ENCRYPTION_KEY: nothing to rotate.`);
      return 2;
    }
    const old = readKeyFile(path);
    if (!(await allSecretsOpen(database, await createKeyring(old[0]!, old.slice(1)), io))) return 1;
    const fresh = crypto.getRandomValues(new Uint8Array(32));
    // Write new+old first, so a crash mid-way leaves a file that opens every row.
    writeKeyFile(path, [fresh, ...old]);
    const count = await rewrapOrExplain(database, await createKeyring(fresh, old), io);
    // The rewrap is all or nothing: on failure no row uses the new key, so the old file is right.
    writeKeyFile(path, count === null ? old : [fresh]);
    if (count === null) return 1;
    io.out(`Rewrapped ${count} stored secret(s) with a new key in ${path}. Back up the new file.`);
    return 0;
  } finally {
    await database.close();
  }
}

async function allSecretsOpen(database: Database, keyring: Keyring, io: CommandOutput): Promise<boolean> {
  const unknown = await findUnknownKeyVersions(database, keyring);
  if (unknown.length === 0) return true;
  io.err(
    `Stored secrets were sealed with a key you did not give (key version ${unknown.join(", ")}); nothing was changed. ` +
      "Add that key to GATEWAY_ENCRYPTION_KEY_PREVIOUS (or restore the key file) and run rotate-key again.",
  );
  return false;
}

/** Returns how many rows were rewrapped, or null (with a message) when one would not open. */
async function rewrapOrExplain(database: Database, keyring: Keyring, io: CommandOutput): Promise<number | null> {
  try {
    return await rewrapSecrets(database, keyring);
  } catch (error) {
    if (!(error instanceof DecryptionError)) throw error;
    io.err(`A stored secret would not open (${error.message}); nothing was changed.`);
    return null;
  }
}
