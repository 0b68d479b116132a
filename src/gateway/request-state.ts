import { decryptSecret, encryptSecret, type Keyring } from "../crypto/encryption.ts";
import { credentialId, type Principal } from "../accounts/principal.ts";

/**
 * What the gateway keeps between the rounds of a call that needed input from a 2026-07-28
 * client, inside the `requestState` the client echoes: either the id of a call the gateway holds
 * open (a 2025 upstream asked during it), or a 2026 upstream's own requestState plus the answers
 * the gateway gave on the caller's behalf. Sealed with AES-GCM under the key every replica shares,
 * and bound (additional data) to the caller's key, the workspace and the tool: a client cannot
 * read an upstream's state, forge one, or replay another caller's.
 */
export type CallState = {
  /** Epoch ms after which the state is refused. */
  exp: number;
  held?: string;
  upstream?: string;
  answered?: Record<string, unknown>;
};

/** How long a client may take to come back with its answers. */
export const REQUEST_STATE_TTL_MS = 10 * 60_000;

function bindingOf(principal: Principal, tool: string): { table: string; column: string; rowId: string; workspaceId: string } {
  return { table: "mcp request state", column: tool, rowId: credentialId(principal.credential) ?? principal.userId, workspaceId: principal.workspaceId };
}

export async function sealCallState(keyring: Keyring, principal: Principal, tool: string, state: Omit<CallState, "exp">, now = Date.now()): Promise<string> {
  const sealed = await encryptSecret(keyring, JSON.stringify({ ...state, exp: now + REQUEST_STATE_TTL_MS }), bindingOf(principal, tool));
  return sealed.ciphertext;
}

/** The state, or null when it was not sealed by this gateway for this caller and tool, or expired. */
export async function openCallState(keyring: Keyring, principal: Principal, tool: string, sealed: string, now = Date.now()): Promise<CallState | null> {
  if (sealed.length > 64 * 1024) return null;
  try {
    const state = JSON.parse(await decryptSecret(keyring, sealed, bindingOf(principal, tool))) as CallState;
    return typeof state.exp === "number" && state.exp > now ? state : null;
  } catch {
    return null;
  }
}
