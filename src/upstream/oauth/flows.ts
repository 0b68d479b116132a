import { eq, lt } from "drizzle-orm";
import type { OAuthDiscoveryState } from "@modelcontextprotocol/client";
import type { Database } from "../../db/client.ts";
import { decryptSecret, encryptSecret, type Keyring, type SecretBinding } from "../../crypto/encryption.ts";
import { hashToken } from "../../crypto/tokens.ts";

/** A pending authorization lives this long; the `state` is refused after it. */
export const FLOW_TTL_MS = 10 * 60_000;

/** Where the person started the flow: a popup closes itself, a full page is sent back to the connection. */
export type FlowDisplay = "popup" | "page";

/** What the callback needs to finish the flow, sealed in `oauth_flows`. */
export type FlowSecret = {
  codeVerifier: string;
  discovery: OAuthDiscoveryState | undefined;
  scope: string | undefined;
  display: FlowDisplay;
  /** The tokens are the starting member's own (a per-member connection), not the connection's. */
  forMember?: boolean;
};

export type PendingFlow = { connectionId: string; workspaceId: string; userId: string | null; expiresAt: number; secret: FlowSecret };

function binding(stateHash: string, workspaceId: string): SecretBinding {
  return { table: "oauth_flows", column: "ciphertext", rowId: stateHash, workspaceId };
}

/** Stores the flow under the hash of its `state`: the state itself is never stored. */
export async function saveFlow(
  database: Database,
  keyring: Keyring,
  state: string,
  flow: Omit<PendingFlow, "expiresAt">,
  now: number,
): Promise<number> {
  const stateHash = hashToken(state);
  const sealed = await encryptSecret(keyring, JSON.stringify(flow.secret), binding(stateHash, flow.workspaceId));
  const expiresAt = now + FLOW_TTL_MS;
  await database.transaction(async (tx) => {
    // Expired flows are useless; sweeping them here keeps the table small without a timer.
    await tx.delete(database.t.oauthFlows).where(lt(database.t.oauthFlows.expiresAt, now));
    await tx.insert(database.t.oauthFlows).values({
      stateHash,
      workspaceId: flow.workspaceId,
      connectionId: flow.connectionId,
      userId: flow.userId,
      ciphertext: sealed.ciphertext,
      keyVersion: sealed.keyVersion,
      createdAt: now,
      expiresAt,
    });
  });
  return expiresAt;
}

export type TakeFlowResult = { ok: true; flow: PendingFlow } | { ok: false; reason: "unknown" | "expired" };

/**
 * Deletes and returns the flow for this `state`: a state works once. A second use, a forged state
 * or one from another gateway finds nothing.
 */
export async function takeFlow(database: Database, keyring: Keyring, state: string, now: number): Promise<TakeFlowResult> {
  const { t } = database;
  const stateHash = hashToken(state);
  const [row] = await database.db.delete(t.oauthFlows).where(eq(t.oauthFlows.stateHash, stateHash)).returning();
  if (!row) return { ok: false, reason: "unknown" };
  if (row.expiresAt <= now) return { ok: false, reason: "expired" };
  const secret = JSON.parse(await decryptSecret(keyring, row.ciphertext, binding(stateHash, row.workspaceId))) as FlowSecret;
  return { ok: true, flow: { connectionId: row.connectionId, workspaceId: row.workspaceId, userId: row.userId, expiresAt: row.expiresAt, secret } };
}
