import { eq, lt } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { decryptSecret, encryptSecret, type Keyring, type SecretBinding } from "../crypto/encryption.ts";
import { hashToken } from "../crypto/tokens.ts";
import type { PendingAuthorization } from "./oidc.ts";

/** Sign-ins on their way through the IdP: found by a hash of their state, used once, 10 minutes. */

export const SSO_FLOW_TTL_MS = 10 * 60_000;

/** "link": a signed-in member binding the identity the IdP returns to their own account. */
export type SsoFlowPurpose = "sign_in" | "test" | "link";
export type SsoFlow = {
  workspaceId: string;
  providerId: string;
  purpose: SsoFlowPurpose;
  /** Who started a test sign-in (an admin) or a link (the member whose account it is). */
  userId: string | null;
  pending: PendingAuthorization;
};

function binding(stateHash: string, workspaceId: string): SecretBinding {
  return { table: "sso_flows", column: "ciphertext", rowId: stateHash, workspaceId };
}

export async function createSsoFlow(database: Database, keyring: Keyring, state: string, flow: SsoFlow, now = Date.now()): Promise<void> {
  const { t } = database;
  const stateHash = hashToken(state);
  const sealed = await encryptSecret(keyring, JSON.stringify(flow.pending), binding(stateHash, flow.workspaceId));
  // Abandoned flows are swept whenever a new one starts.
  await database.db.delete(t.ssoFlows).where(lt(t.ssoFlows.expiresAt, now));
  await database.db.insert(t.ssoFlows).values({
    stateHash,
    workspaceId: flow.workspaceId,
    providerId: flow.providerId,
    purpose: flow.purpose,
    userId: flow.userId,
    ciphertext: sealed.ciphertext,
    keyVersion: sealed.keyVersion,
    createdAt: now,
    expiresAt: now + SSO_FLOW_TTL_MS,
  });
}

/** Deletes the flow as it reads it, so a state works once; null when unknown or expired. */
export async function consumeSsoFlow(database: Database, keyring: Keyring, state: string, now = Date.now()): Promise<SsoFlow | null> {
  const { t } = database;
  const stateHash = hashToken(state);
  const [row] = await database.db.delete(t.ssoFlows).where(eq(t.ssoFlows.stateHash, stateHash)).returning();
  if (!row || row.expiresAt <= now) return null;
  const pending = JSON.parse(await decryptSecret(keyring, row.ciphertext, binding(stateHash, row.workspaceId))) as PendingAuthorization;
  return { workspaceId: row.workspaceId, providerId: row.providerId, purpose: row.purpose, userId: row.userId, pending };
}
