import type { Principal } from "../accounts/principal.ts";
import { storeCredential } from "./credentials.ts";
import { checkAuthInput, memberAuthInput, toSecret } from "./auth-kinds/input.ts";
import type { FieldErrors } from "./checks.ts";
import type { ConnectionDeps } from "./connection-deps.ts";
import { deleteMemberCredential, memberCredentialStatus, type MemberCredentialStatus } from "./member-credentials.ts";
import { probe } from "./probe.ts";
import { getConnection } from "./queries.ts";
import { resyncConnection } from "./resync.ts";
import type { ConnectionMeta } from "./types.ts";

/** What a member pastes for their own account: the value that goes where the connection says. */
export type MemberSecretInput = { secret: string };

export type ConnectMemberResult = { ok: true } | { ok: false; errors: FieldErrors } | { ok: false; notFound: true };

async function perMemberConnection(deps: ConnectionDeps, principal: Principal, id: string): Promise<ConnectionMeta | null> {
  const connection = await getConnection(deps, principal.workspaceId, id);
  return connection && connection.sharing === "per_member" ? connection : null;
}

/**
 * A member connects their own account with a pasted token: it is tried against the upstream
 * first, then sealed in their own row. The first member to connect also lists the tools.
 */
export async function connectMemberToken(deps: ConnectionDeps, principal: Principal, id: string, input: MemberSecretInput, now = Date.now()): Promise<ConnectMemberResult> {
  const connection = await perMemberConnection(deps, principal, id);
  if (!connection) return { ok: false, notFound: true };
  const auth = memberAuthInput(connection, input.secret);
  if (!auth) return { ok: false, errors: { secret: `${connection.name} is connected with ${connection.authKind === "oauth" ? "OAuth: use Connect" : "your identity provider"}, not a pasted token.` } };
  const errors = checkAuthInput(auth);
  const first = Object.values(errors)[0];
  if (first) return { ok: false, errors: { secret: first } };
  const secret = toSecret(auth);
  const probed = await probe(deps, connection.url, secret);
  if (!probed.ok) return { ok: false, errors: { secret: Object.values(probed.errors)[0] ?? "The server refused this credential." } };
  const ids = { connectionId: connection.id, workspaceId: principal.workspaceId, userId: principal.userId };
  await storeCredential(deps.database, deps.keyring, ids, secret!, null, now);
  deps.pool.drop(connection.id, { userId: principal.userId });
  deps.log.info("member connected their account", { connectionId: connection.id, userId: principal.userId });
  if (connection.status !== "connected") await resyncConnection(deps, principal.workspaceId, connection.id, { why: "a member connected their account" });
  return { ok: true };
}

/** Deletes the member's own credential; their next call asks them to connect again. */
export async function disconnectMember(deps: ConnectionDeps & { oauth: { forget(connectionId: string): void } }, principal: Principal, id: string): Promise<boolean> {
  const connection = await perMemberConnection(deps, principal, id);
  if (!connection) return false;
  const removed = await deleteMemberCredential(deps.database, { connectionId: connection.id, workspaceId: principal.workspaceId, userId: principal.userId });
  deps.pool.drop(connection.id, { userId: principal.userId });
  deps.oauth.forget(connection.id);
  return removed;
}

/** The member's own status on a per-member connection (never the secret). */
export async function memberStatus(deps: Pick<ConnectionDeps, "database">, principal: Principal, connectionId: string): Promise<MemberCredentialStatus | null> {
  return memberCredentialStatus(deps.database, { connectionId, workspaceId: principal.workspaceId, userId: principal.userId });
}
