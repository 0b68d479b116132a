import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeBase64, encodeBase64 } from "@oslojs/encoding";
import type { Config } from "../config.ts";
import { createKeyring, type Keyring } from "./encryption.ts";

export type KeySource =
  | { kind: "env" }
  | { kind: "file"; path: string; created: boolean };

export function keyFilePath(dataDir: string): string {
  return join(dataDir, "encryption.key");
}

/**
 * The key-encryption key never lives in the database: it comes from GATEWAY_ENCRYPTION_KEY, or
 * from a key file made with mode 0600 on first run (one base64 key a line, the first is current).
 */
export async function loadKeyring(config: Config): Promise<{ keyring: Keyring; source: KeySource }> {
  if (config.encryptionKey) {
    const keyring = await createKeyring(
      decodeBase64(config.encryptionKey),
      config.previousEncryptionKeys.map((k) => decodeBase64(k)),
    );
    return { keyring, source: { kind: "env" } };
  }
  const path = keyFilePath(config.dataDir);
  let created = false;
  if (!existsSync(path)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeKeyFile(path, [crypto.getRandomValues(new Uint8Array(32))]);
    created = true;
  }
  const keys = readKeyFile(path);
  const keyring = await createKeyring(keys[0]!, keys.slice(1));
  return { keyring, source: { kind: "file", path, created } };
}

export function readKeyFile(path: string): Uint8Array[] {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) chmodSync(path, 0o600);
  const keys = readFileSync(path, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => decodeBase64(line));
  if (keys.length === 0 || keys.some((k) => k.length !== 32)) {
    throw new Error(`${path} must hold one base64 32-byte key a line`);
  }
  return keys;
}

export function writeKeyFile(path: string, keys: Uint8Array[]): void {
  writeFileSync(path, keys.map((k) => encodeBase64(k)).join("\n") + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
}
