import { decodeBase64, encodeBase64 } from "@oslojs/encoding";
import { sha256 } from "@oslojs/crypto/sha2";

/**
 * AES-256-GCM for stored secrets. A ciphertext is `v1.<keyVersion>.<base64(iv || sealed)>`; its
 * additional data binds it to one row, so a ciphertext copied into another row fails to open.
 */

export type Keyring = {
  /** Version of the key new ciphertexts are sealed with. */
  current: number;
  keys: Map<number, CryptoKey>;
  /**
   * HMAC-SHA256 key derived (HKDF, its own label) from the current key, which every replica shares:
   * what seals the MCP endpoint's session ids so that any replica can check them.
   */
  sessionKey: CryptoKey;
  /**
   * HMAC-SHA256 keys derived (HKDF, their own label) from every key, by version: what signs the audit
   * trail's retention anchor (audit/anchor.ts), checkable with any key the operator still has.
   */
  auditKeys: Map<number, CryptoKey>;
};

/** Where a ciphertext lives: bound in as additional data. */
export type SecretBinding = { table: string; column: string; rowId: string; workspaceId: string };

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecryptionError";
  }
}

const HKDF_INFO = new TextEncoder().encode("mcp-gateway stored secrets v1");
const SESSION_HKDF_INFO = new TextEncoder().encode("mcp-gateway session ids v1");
const AUDIT_HKDF_INFO = new TextEncoder().encode("mcp-gateway audit anchors v1");

/** Keys are named by a version derived from the key itself, so no operator numbering is needed. */
export function versionOfKey(raw: Uint8Array): number {
  const digest = sha256(new Uint8Array([...new TextEncoder().encode("key-version:"), ...raw]));
  return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
}

export async function createKeyring(currentKey: Uint8Array, previousKeys: Uint8Array[] = []): Promise<Keyring> {
  const keys = new Map<number, CryptoKey>();
  const auditKeys = new Map<number, CryptoKey>();
  for (const raw of [currentKey, ...previousKeys]) {
    keys.set(versionOfKey(raw), await deriveKey(raw));
    auditKeys.set(versionOfKey(raw), await deriveHmacKey(raw, AUDIT_HKDF_INFO));
  }
  return { current: versionOfKey(currentKey), keys, sessionKey: await deriveHmacKey(currentKey, SESSION_HKDF_INFO), auditKeys };
}

async function deriveHmacKey(raw: Uint8Array, info: Uint8Array): Promise<CryptoKey> {
  const master = await crypto.subtle.importKey("raw", new Uint8Array(raw), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: new Uint8Array(info) },
    master,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

async function deriveKey(raw: Uint8Array): Promise<CryptoKey> {
  const master = await crypto.subtle.importKey("raw", new Uint8Array(raw), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: HKDF_INFO },
    master,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

function additionalData(binding: SecretBinding): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([binding.table, binding.column, binding.rowId, binding.workspaceId]));
}

export async function encryptSecret(
  keyring: Keyring,
  plaintext: string,
  binding: SecretBinding,
): Promise<{ ciphertext: string; keyVersion: number }> {
  const key = keyring.keys.get(keyring.current)!;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new Uint8Array(additionalData(binding)) },
      key,
      new TextEncoder().encode(plaintext),
    ),
  );
  const body = new Uint8Array(iv.length + sealed.length);
  body.set(iv, 0);
  body.set(sealed, iv.length);
  return { ciphertext: `v1.${keyring.current}.${encodeBase64(body)}`, keyVersion: keyring.current };
}

/** Throws DecryptionError with a message that names no secret. */
export async function decryptSecret(keyring: Keyring, ciphertext: string, binding: SecretBinding): Promise<string> {
  const [format, versionText, bodyText] = ciphertext.split(".");
  if (format !== "v1" || !versionText || !bodyText) throw new DecryptionError("stored secret has an unknown format");
  const version = Number(versionText);
  const key = keyring.keys.get(version);
  if (!key) {
    throw new DecryptionError(
      `stored secret was sealed with key version ${version}, which is not configured (set GATEWAY_ENCRYPTION_KEY or GATEWAY_ENCRYPTION_KEY_PREVIOUS to that key)`,
    );
  }
  const body = decodeBase64(bodyText);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: new Uint8Array(body.subarray(0, 12)), additionalData: new Uint8Array(additionalData(binding)) },
      key,
      new Uint8Array(body.subarray(12)),
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new DecryptionError("stored secret failed to decrypt: wrong key, or it was moved from another row");
  }
}

