import { eq } from "drizzle-orm";
import { decodeHex, encodeHexLowerCase } from "@oslojs/encoding";
import type { Database, Db, Tables } from "../db/client.ts";
import type { Keyring } from "../crypto/encryption.ts";

export type AuditAnchor = Tables["auditAnchors"]["$inferSelect"];

/** The one anchor row: retention replaces it each time it removes entries. */
const ANCHOR_ID = "chain";

/**
 * Retention removes the oldest entries; the first kept one names a hash nobody can recompute any
 * more. The anchor vouches for that hash, signed with a key derived from the encryption key: a
 * database writer without that key cannot remove entries and forge an anchor to cover it.
 */
function signedText(anchor: { seq: number; hash: string; removedAt: number }): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new TextEncoder().encode(JSON.stringify(["mcp-gateway audit anchor v1", anchor.seq, anchor.hash, anchor.removedAt])));
}

export async function writeAnchor(database: Database, tx: Db, keyring: Keyring, anchor: { seq: number; hash: string; removedAt: number }): Promise<void> {
  const key = keyring.auditKeys.get(keyring.current)!;
  const signature = encodeHexLowerCase(new Uint8Array(await crypto.subtle.sign("HMAC", key, signedText(anchor))));
  const row = { ...anchor, keyVersion: keyring.current, signature };
  const { t } = database;
  await tx.delete(t.auditAnchors).where(eq(t.auditAnchors.id, ANCHOR_ID));
  await tx.insert(t.auditAnchors).values({ id: ANCHOR_ID, ...row });
}

export async function readAnchor(database: Database, db: Db = database.db): Promise<AuditAnchor | null> {
  const [anchor] = await db.select().from(database.t.auditAnchors).where(eq(database.t.auditAnchors.id, ANCHOR_ID));
  return anchor ?? null;
}

export type AnchorCheck = "valid" | "forged" | "unknown_key";

export async function checkAnchor(keyring: Keyring, anchor: AuditAnchor): Promise<AnchorCheck> {
  const key = keyring.auditKeys.get(anchor.keyVersion);
  if (!key) return "unknown_key";
  let signature: Uint8Array;
  try {
    signature = decodeHex(anchor.signature);
  } catch {
    return "forged";
  }
  return (await crypto.subtle.verify("HMAC", key, new Uint8Array(signature), signedText(anchor))) ? "valid" : "forged";
}

/** After a key rotation the old key is dropped: the anchor is signed again with the new one, in the rotation's transaction. */
export async function resignAnchor(database: Database, tx: Db, keyring: Keyring): Promise<void> {
  const anchor = await readAnchor(database, tx);
  if (!anchor || anchor.keyVersion === keyring.current) return;
  if ((await checkAnchor(keyring, anchor)) !== "valid") return; // never launder a forged one
  await writeAnchor(database, tx, keyring, anchor);
}
