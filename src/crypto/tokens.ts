import { constantTimeEqual } from "@oslojs/crypto/subtle";
import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";

/** A random token of `bytes` bytes (≥16 = 128 bits), base32 so it is safe in URLs and headers. */
export function generateToken(bytes = 20): string {
  return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(bytes)));
}

export function hashToken(token: string): string {
  // Native SHA-256: this runs on every authenticated request.
  return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}

export function tokensEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  return left.length === right.length && constantTimeEqual(left, right);
}

/** Sortable ids: time-ordered, so newest-first listings can order by id. */
export function newId(): string {
  return Bun.randomUUIDv7();
}
