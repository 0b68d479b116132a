import type { Principal } from "../accounts/principal.ts";
import { newId } from "../crypto/tokens.ts";
import { createGuardedFetch } from "../net/guarded-fetch.ts";
import { discoverIdJagIssuer } from "../upstream/oauth/id-jag.ts";
import type { AddConnectionInput, AddConnectionResult } from "./add-input.ts";
import type { ConnectionDeps } from "./connection-deps.ts";
import { sealCredential, writeCredential } from "./credentials.ts";
import { checkUrlOnly } from "./probe.ts";
import { findConnectionByName, getConnection } from "./queries.ts";
import { deleteConnection } from "./remove.ts";
import { resyncConnection } from "./resync.ts";
import { NO_MEMBER_CONNECTED } from "./status.ts";
import { listConnectionTools } from "./tools.ts";
import type { ConnectionRow } from "./types.ts";

/**
 * An enterprise-managed (ID-JAG) connection: the server's authorization server must accept
 * jwt-bearer grants; the client the admin registered there is sealed, pinned to that issuer; the
 * tools are listed with the adding admin's own token, obtained through their SSO sign-in. If that
 * fails the connection is not kept, and the form says why.
 */
export async function addIdJagConnection(deps: ConnectionDeps, principal: Principal, input: AddConnectionInput & { auth: { kind: "id-jag" } }, now: number): Promise<AddConnectionResult> {
  const url = input.url.trim();
  const checked = await checkUrlOnly(deps, url);
  if (!checked.ok) return checked;
  const found = await discoverIdJagIssuer(url, createGuardedFetch({ allow: deps.config.upstreamAllow }));
  if (!found.ok) return { ok: false, errors: { auth: found.reason } };
  const { database } = deps;
  const { t } = database;
  const id = newId();
  const row: ConnectionRow = {
    id,
    workspaceId: principal.workspaceId,
    name: input.name,
    url: new URL(url).toString(),
    authKind: "id-jag",
    authHeader: null,
    status: "needs_reauth",
    statusDetail: NO_MEMBER_CONNECTED,
    consecutiveFailures: 0,
    pausedUntil: null,
    lastSyncedAt: null,
    callTimeoutMs: input.callTimeoutMs ?? null,
    catalogId: input.catalogId ?? null,
    createdAt: now,
    updatedAt: now,
    sharing: "per_member",
    exposeNewTools: input.expose === "all",
    heldMode: "hide",
    // Learnt at the first discovery, once a member has connected.
    serverCapabilities: null,
    serverInstructions: null,
  };
  const client = { kind: "id-jag" as const, data: { clientId: input.auth.clientId.trim(), clientSecret: input.auth.clientSecret.trim(), issuer: found.issuer } };
  const sealed = await sealCredential(database, deps.keyring, { connectionId: id, workspaceId: principal.workspaceId }, client, null, now);
  try {
    await database.transaction(async (tx) => {
      await tx.insert(t.connections).values(row);
      await writeCredential(tx, database, sealed);
    });
  } catch (error) {
    if (await findConnectionByName(deps, principal.workspaceId, input.name)) return { ok: false, errors: { name: `A connection named "${input.name}" exists already.` } };
    throw error;
  }
  deps.toolIndex.changed(principal.workspaceId);
  const synced = await resyncConnection(deps, principal.workspaceId, id, { why: "added", as: principal.userId, attempts: 1, now });
  if (!synced.ok) {
    await deleteConnection(deps, principal, id);
    return { ok: false, errors: { auth: "error" in synced ? `${synced.error} The tools are listed with your own token from your identity provider.` : "The connection vanished." } };
  }
  deps.log.info("connection added", { connection: input.name, workspaceId: principal.workspaceId, sharing: "per_member", auth: "id-jag", tools: synced.report.total });
  const tools = (await listConnectionTools(deps, principal.workspaceId, id)).map(({ enabled: _e, exposedName: _x, ...definition }) => definition);
  const stored = (await getConnection(deps, principal.workspaceId, id)) ?? row;
  return { ok: true, connection: stored, tools, report: synced.report };
}
