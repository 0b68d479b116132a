import { existsSync } from "node:fs";
import type { Config } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { createKeyring } from "./encryption.ts";
import { keyFilePath, readKeyFile, writeKeyFile } from "./key-file.ts";
import { rewrapSecrets } from "./rotate.ts";
import { decodeBase64 } from "@oslojs/encoding";

/**
 * With a key file: makes a new key, keeps the old ones beside it while every row is rewrapped,
 * then drops them. With GATEWAY_ENCRYPTION_KEY: rewraps rows sealed with the keys in
 * GATEWAY_ENCRYPTION_KEY_PREVIOUS to the current key; the operator then removes the old ones.
 */
export async function rotateKey(config: Config, print: (line: string) => void): Promise<number> {
  const database = await openDatabase(config.database);
  try {
    if (config.encryptionKey) {
      if (config.previousEncryptionKeys.length === 0) {
        print("Set GATEWAY_ENCRYPTION_KEY to the new key and GATEWAY_ENCRYPTION_KEY_PREVIOUS to the old one(s), then run rotate-key again.");
        return 2;
      }
      const keyring = await createKeyring(decodeBase64(config.encryptionKey), config.previousEncryptionKeys.map((k) => decodeBase64(k)));
      const count = await rewrapSecrets(database, keyring);
      print(`Rewrapped ${count} stored secret(s). You can now remove GATEWAY_ENCRYPTION_KEY_PREVIOUS.`);
      return 0;
    }
    const path = keyFilePath(config.dataDir);
    if (!existsSync(path)) {
      print(`No key file at ${path} and no GATEWAY_ENCRYPTION_KEY: nothing to rotate.`);
      return 2;
    }
    const old = readKeyFile(path);
    const fresh = crypto.getRandomValues(new Uint8Array(32));
    // Write new+old first, so a crash mid-way leaves a file that opens every row.
    writeKeyFile(path, [fresh, ...old]);
    const count = await rewrapSecrets(database, await createKeyring(fresh, old));
    writeKeyFile(path, [fresh]);
    print(`Rewrapped ${count} stored secret(s) with a new key in ${path}. Back up the new file.`);
    return 0;
  } finally {
    await database.close();
  }
}
