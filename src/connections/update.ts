import { and, eq } from "drizzle-orm";
import type { Principal } from "../accounts/principal.ts";
import { oauthDataOf, toOAuthSecret } from "../upstream/oauth/data.ts";
import { checkAuthInput, checkUrlKey, storedAuthHeader, toSecret } from "./auth-kinds/input.ts";
import type { AuthInput } from "./auth-kinds/registry.ts";
import { checkCallTimeout, type FieldErrors } from "./checks.ts";
import type { ConnectionDeps } from "./connection-deps.ts";
import { deleteCredential, loadCredential, sealCredential, writeCredential } from "./credentials.ts";
import { deleteMemberCredentials } from "./member-credentials.ts";
import { checkConnectionName } from "./names.ts";
import { checkUrlOnly, probe } from "./probe.ts";
import { findConnectionByName, getConnection } from "./queries.ts";
import { CREDENTIAL_FOR_OLD_SERVER, relocatePerMember, sameOrigin, type MemberCredentialChange } from "./relocation.ts";
import type { UpstreamSecret } from "./secret.ts";
import { OAUTH_NOT_CONNECTED, setConnectionStatus } from "./status.ts";
import { storeTools, type SyncReport } from "./sync.ts";
import { recordSyncReview } from "./held-record.ts";
import { storeItems, type ItemDefinition } from "./item-sync.ts";
import type { ToolDefinition } from "./tool-defs.ts";
import { storeServerProfile, type ServerProfile } from "./server-profile.ts";
import { recordAudit, urlForAudit } from "../audit/record.ts";

export type UpdateConnectionInput = { name?: string; url?: string; auth?: AuthInput; callTimeoutMs?: number | null };

/** Renames, re-points or re-authorizes. A new URL or credential is proved before it is stored. */
export async function updateConnection(
  deps: ConnectionDeps & { oauth?: { forget(connectionId: string): void } },
  principal: Principal,
  id: string,
  input: UpdateConnectionInput,
  now = Date.now(),
): Promise<{ ok: true; report: SyncReport | null } | { ok: false; errors: FieldErrors } | { ok: false; notFound: true }> {
  const { database } = deps;
  const { t } = database;
  const current = await getConnection(deps, principal.workspaceId, id);
  if (!current) return { ok: false, notFound: true };
  const errors: FieldErrors = input.auth ? checkAuthInput(input.auth) : {};
  if (input.auth && current.sharing === "per_member") errors.auth = "On a per-member connection each member connects their own account (Connect your account).";
  if (input.name !== undefined && input.name !== current.name) {
    const nameError = checkConnectionName(input.name);
    if (nameError) errors.name = nameError;
    else if (await findConnectionByName(deps, principal.workspaceId, input.name)) errors.name = `A connection named "${input.name}" exists already.`;
  }
  const timeoutError = checkCallTimeout(input.callTimeoutMs);
  if (timeoutError) errors.callTimeoutMs = timeoutError;
  const urlKeyError = input.url !== undefined || input.auth !== undefined ? checkUrlKey(input.url ?? current.url, input.auth?.kind ?? current.authKind) : null;
  if (urlKeyError) errors.url = urlKeyError;
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  let probed: { ok: true; tools: ToolDefinition[]; items?: ItemDefinition[]; server?: ServerProfile } | null = null;
  let secret = input.auth ? toSecret(input.auth) : undefined;
  const nextUrl = (input.url ?? current.url).trim();
  // Secrets typed for one server never go to another: see relocation.ts.
  const moved = input.url !== undefined && !sameOrigin(nextUrl, current.url);
  let members: MemberCredentialChange = "keep";
  let waitFor: string | null = null;
  // OAuth is (re-)authorized by a person afterwards: a new URL or client only resets it.
  const oauthReset = (input.auth?.kind ?? current.authKind) === "oauth" && (input.url !== undefined || input.auth !== undefined);
  if (oauthReset) {
    const checked = await checkUrlOnly(deps, nextUrl);
    if (!checked.ok) return checked;
    if (!input.auth) {
      // Tokens belong to the old URL; a client the operator registered stays.
      const data = oauthDataOf(await loadCredential(database, deps.keyring, { connectionId: id, workspaceId: principal.workspaceId }));
      secret = data.clientSource === "operator" ? toOAuthSecret({ client: data.client, clientSource: "operator" }) : null;
    }
    // Each member's tokens were issued for the old URL too (its resource indicator).
    if (input.url !== undefined) members = { drop: "all" };
  } else if (current.sharing === "per_member" && input.url !== undefined) {
    const checks = { probe: (url: string, with_: UpstreamSecret | null) => probe(deps, url, with_), checkUrl: (url: string) => checkUrlOnly(deps, url) };
    const relocated = await relocatePerMember(deps, checks, principal, current, nextUrl, moved);
    if (!relocated.ok) return relocated;
    probed = relocated.probed;
    members = relocated.members;
    waitFor = relocated.waitFor;
  } else if (moved && !input.auth && current.authKind !== "none") {
    // The shared secret was typed for the old server: it is deleted, and a person enters the new one.
    const checked = await checkUrlOnly(deps, nextUrl);
    if (!checked.ok) return checked;
    secret = null;
    waitFor = CREDENTIAL_FOR_OLD_SERVER;
  } else if (input.url !== undefined || input.auth !== undefined) {
    const useSecret = secret !== undefined ? secret : await loadCredential(database, deps.keyring, { connectionId: id, workspaceId: principal.workspaceId });
    const result = await probe(deps, nextUrl, useSecret);
    if (!result.ok) return result;
    probed = result;
  }
  const sealed = secret ? await sealCredential(database, deps.keyring, { connectionId: id, workspaceId: principal.workspaceId }, secret, null, now) : null;
  const report = await database.transaction(async (tx) => {
    await tx
      .update(t.connections)
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.url !== undefined ? { url: new URL(input.url.trim()).toString() } : {}),
        ...(input.auth ? { authKind: input.auth.kind, authHeader: storedAuthHeader(input.auth) } : {}),
        ...(input.callTimeoutMs !== undefined ? { callTimeoutMs: input.callTimeoutMs } : {}),
        // The status moves below, through setConnectionStatus, so that the change is recorded.
        ...(probed ? { lastSyncedAt: now } : {}),
        updatedAt: Math.max(now, current.updatedAt + 1),
      })
      .where(and(eq(t.connections.id, id), eq(t.connections.workspaceId, principal.workspaceId)));
    if (secret !== undefined) {
      if (sealed) await writeCredential(tx, database, sealed);
      else await deleteCredential(tx, database, id);
    }
    if (members !== "keep") await deleteMemberCredentials(tx, database, { connectionId: id, workspaceId: principal.workspaceId }, members.drop === "all" ? null : members.drop.except);
    const storedItems = probed?.items ? await storeItems(tx, database, id, probed.items, { now, enabled: current.exposeNewTools }) : null;
    if (probed?.server) await storeServerProfile(tx, database, id, probed.server);
    const stored = probed ? await storeTools(tx, database, id, probed.tools, { now, enabled: () => current.exposeNewTools }) : null;
    await recordSyncReview(database, tx, { id, workspaceId: principal.workspaceId, name: input.name ?? current.name }, [stored, storedItems], now);
    await recordAudit(database, tx, { workspaceId: principal.workspaceId, action: "connection.changed", target: `connection:${id}`, details: { name: input.name, url: input.url === undefined ? undefined : urlForAudit(input.url), authKind: input.auth?.kind, credentialReplaced: secret !== undefined, callTimeoutMs: input.callTimeoutMs, memberCredentialsDropped: members !== "keep" } });
    return stored;
  });
  if (probed && (current.status !== "connected" || current.consecutiveFailures > 0)) {
    await setConnectionStatus(deps, current, "connected", "re-authorized or re-pointed by a person", { consecutiveFailures: 0, pausedUntil: null }, now);
  }
  if (oauthReset) await setConnectionStatus(deps, current, "needs_reauth", OAUTH_NOT_CONNECTED, { consecutiveFailures: 0, pausedUntil: null }, now);
  else if (waitFor) await setConnectionStatus(deps, current, "needs_reauth", waitFor, { consecutiveFailures: 0, pausedUntil: null }, now);
  if (members !== "keep") {
    deps.log.info("member credentials dropped", { connectionId: id, workspaceId: principal.workspaceId, why: "the URL moved" });
    deps.oauth?.forget(id);
  }
  deps.pool.drop(id);
  deps.toolIndex.changed(principal.workspaceId);
  return { ok: true, report };
}
