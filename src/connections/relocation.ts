import type { Database } from "../db/client.ts";
import type { Keyring } from "../crypto/encryption.ts";
import type { ConnectionRow } from "./types.ts";
import type { Principal } from "../accounts/principal.ts";
import { loadCredential } from "./credentials.ts";
import type { UpstreamSecret } from "./secret.ts";
import type { ToolDefinition } from "./tool-defs.ts";

/**
 * Moving a connection to another server. A bearer token, header value, key in the URL or OAuth
 * token was typed (or issued) for one server; sent to another, it hands that server a secret it was
 * never meant to see. So when a connection's URL moves to another origin (scheme, host and port),
 * every credential typed for the old one is dropped and a person enters one for the new server.
 * A path change on the same origin keeps them: the same server, and its owner, received them
 * already. (OAuth tokens are reset on any URL change, since their resource is the URL itself.)
 */

/** Why a shared connection whose URL moved waits: its old credential was deleted, not sent. */
export const CREDENTIAL_FOR_OLD_SERVER = "The URL moved to another server: enter its credential again (Re-authorize)";

/** Why a per-member connection waits after a move when the admin had no credential of their own. */
export const MEMBERS_CONNECT_AGAIN = "The URL moved to another server: each member connects their account again";

export function sameOrigin(a: string, b: string): boolean {
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  const x = new URL(a);
  const y = new URL(b);
  return x.protocol === y.protocol && x.hostname === y.hostname && x.port === y.port;
}

/** What happens to members' own credentials: kept, or all deleted except (maybe) one member's. */
export type MemberCredentialChange = "keep" | { drop: "all" } | { drop: { except: string } };

type Checks = {
  probe(url: string, secret: UpstreamSecret | null): Promise<{ ok: true; tools: ToolDefinition[] } | { ok: false; errors: Record<string, string> }>;
  checkUrl(url: string): Promise<{ ok: true } | { ok: false; errors: Record<string, string> }>;
};

export type Relocation =
  | { ok: true; probed: { ok: true; tools: ToolDefinition[] } | null; members: MemberCredentialChange; waitFor: string | null }
  | { ok: false; errors: Record<string, string> };

/**
 * A per-member connection's new URL is checked with the changing admin's own credential only,
 * never another member's (the admin chose to send theirs; the others did not). Without one, only
 * the URL policy is checked. Moved to another origin, every other member's credential is dropped.
 */
export async function relocatePerMember(
  deps: { database: Database; keyring: Keyring },
  checks: Checks,
  principal: Principal,
  current: ConnectionRow,
  url: string,
  moved: boolean,
): Promise<Relocation> {
  if (current.authKind === "id-jag") {
    // Its client is registered with, and pinned to, the old server's authorization server.
    if (moved) return { ok: false, errors: { url: "An enterprise-managed connection is tied to its server's authorization server: add a new connection for another server." } };
    const checked = await checks.checkUrl(url);
    return checked.ok ? { ok: true, probed: null, members: "keep", waitFor: null } : checked;
  }
  const own = await loadCredential(deps.database, deps.keyring, { connectionId: current.id, workspaceId: principal.workspaceId, userId: principal.userId });
  if (!own) {
    const checked = await checks.checkUrl(url);
    if (!checked.ok) return checked;
    return moved ? { ok: true, probed: null, members: { drop: "all" }, waitFor: MEMBERS_CONNECT_AGAIN } : { ok: true, probed: null, members: "keep", waitFor: null };
  }
  const probed = await checks.probe(url, own);
  if (!probed.ok) return probed;
  return { ok: true, probed, members: moved ? { drop: { except: principal.userId } } : "keep", waitFor: null };
}
