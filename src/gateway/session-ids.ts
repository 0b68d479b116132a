import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from "@oslojs/encoding";

/**
 * 2025-era session ids that any replica can check without asking another: a random part, the time
 * it was issued, and an HMAC (the keyring's session key, derived from the encryption key every
 * replica shares) over both and over what the session is bound to — its workspace and the key that
 * opened it. The binding is not written in the id: only a request carrying that same key can
 * verify it, so an id is never a credential and says nothing about whose it is.
 *
 *   <random, 16 bytes, base64url>.<issued at, ms, base36>.<HMAC-SHA256, base64url>
 */

/** `view`: the connection of a session opened at /api/v1/mcp/<connection> (absent for the workspace's). */
export type SessionBinding = { workspaceId: string; holderKey: string; view?: string };

// A session older than this is not taken up again by a replica that does not hold it: the
// client starts a new one. Generous: 2025 clients keep one session for as long as they run.
export const SESSION_ID_MAX_AGE_MS = 7 * 24 * 60 * 60_000;

const encoder = new TextEncoder();

export async function mintSessionId(key: CryptoKey, binding: SessionBinding, now = Date.now()): Promise<string> {
  const nonce = encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(16)));
  const issuedAt = now.toString(36);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, signedBytes(nonce, issuedAt, binding)));
  return `${nonce}.${issuedAt}.${encodeBase64urlNoPadding(mac)}`;
}

/** True when `id` was minted by a replica of this gateway for this binding, and is not too old. */
export async function verifySessionId(key: CryptoKey, id: string, binding: SessionBinding, now = Date.now()): Promise<boolean> {
  if (id.length > 100) return false;
  const [nonce, issuedAt, mac, ...rest] = id.split(".");
  if (!nonce || !issuedAt || !mac || rest.length > 0) return false;
  const issued = Number.parseInt(issuedAt, 36);
  if (!Number.isSafeInteger(issued) || issued.toString(36) !== issuedAt || now - issued > SESSION_ID_MAX_AGE_MS || issued - now > 60_000) return false;
  let signature: Uint8Array;
  try {
    signature = decodeBase64urlIgnorePadding(mac);
  } catch {
    return false;
  }
  // Web Crypto's verify compares in constant time.
  return crypto.subtle.verify("HMAC", key, new Uint8Array(signature), signedBytes(nonce, issuedAt, binding));
}

function signedBytes(nonce: string, issuedAt: string, binding: SessionBinding): Uint8Array<ArrayBuffer> {
  // Without a view, the bytes of ids minted before views existed: they stay valid.
  const bound = ["mcp-session", nonce, issuedAt, binding.workspaceId, binding.holderKey, ...(binding.view === undefined ? [] : [binding.view])];
  return new Uint8Array(encoder.encode(JSON.stringify(bound)));
}
