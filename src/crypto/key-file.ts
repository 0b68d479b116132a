import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeBase64, encodeBase64 } from "@oslojs/encoding";
import type { Config } from "../config.ts";
import { createKeyring, type Keyring } from "./encryption.ts";

export type KeySource =
  | { kind: "env" }
  | { kind: "file"; path: string; created: boolean };

/** The key file is unreadable or malformed: start-up stops with this message, never a stack trace. */
export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyFileError";
  }
}

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
    try {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      writeKeyFile(path, [crypto.getRandomValues(new Uint8Array(32))]);
    } catch (error) {
      throw new KeyFileError(`Cannot create the key file ${path} (${(error as NodeJS.ErrnoException).code ?? error}): make DATA_DIR writable by this user, or set GATEWAY_ENCRYPTION_KEY.`);
    }
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
    .map((line) => decodeKey(line));
  if (keys.length === 0 || keys.some((k) => k === null)) {
    throw new KeyFileError(`${path} is not a key file (one base64 32-byte key a line): restore it from your backup, or stored credentials cannot be read.`);
  }
  return keys as Uint8Array[];
}

function decodeKey(line: string): Uint8Array | null {
  try {
    const key = decodeBase64(line);
    return key.length === 32 ? key : null;
  } catch {
    return null;
  }
}

export function writeKeyFile(path: string, keys: Uint8Array[]): void {
  writeFileSync(path, keys.map((k) => encodeBase64(k)).join("\n") + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
}
