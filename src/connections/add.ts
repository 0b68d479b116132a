import type { Principal } from "../accounts/principal.ts";
import { newId } from "../crypto/tokens.ts";
import { addIdJagConnection } from "./add-id-jag.ts";
import type { AddConnectionInput, AddConnectionResult } from "./add-input.ts";
import { checkAuthInput, checkUrlKey, isEmptyAuth, storedAuthHeader, toSecret } from "./auth-kinds/input.ts";
import { checkCallTimeout, type FieldErrors } from "./checks.ts";
import type { ConnectionDeps } from "./connection-deps.ts";
import { sealCredential, writeCredential } from "./credentials.ts";
import { checkConnectionName } from "./names.ts";
import { checkUrlOnly, probe } from "./probe.ts";
import { findConnectionByName } from "./queries.ts";
import { NO_MEMBER_CONNECTED, OAUTH_NOT_CONNECTED } from "./status.ts";
import { storeTools } from "./sync.ts";
import { storeItems } from "./item-sync.ts";
import type { ConnectionRow } from "./types.ts";
import { recordAudit, urlForAudit } from "../audit/record.ts";

/** Adds a connection: checks the input, proves URL and credential (unless a person authorizes later), stores it with its tools. */
export async function addConnection(deps: ConnectionDeps, principal: Principal, input: AddConnectionInput, now = Date.now()): Promise<AddConnectionResult> {
  const { database } = deps;
  const { t } = database;
  const sharing = input.sharing ?? "shared";
  // Per member, the admin's own credential is optional: without one, the first member to connect sets the tools.
  const deferred = sharing === "per_member" && isEmptyAuth(input.auth);
  const errors: FieldErrors = deferred ? {} : { ...checkAuthInput(input.auth) };
  if (sharing !== "per_member" && input.auth.kind === "id-jag") errors.sharing = "Enterprise-managed authorization gives each member their own token: choose per-member sharing.";
  if (sharing === "per_member" && input.auth.kind === "none") errors.auth = "A per-member connection needs each member's own credential: choose a token, a custom header, a key in the URL or OAuth.";
  const nameError = checkConnectionName(input.name);
  if (nameError) errors.name = nameError;
  const timeoutError = checkCallTimeout(input.callTimeoutMs);
  if (timeoutError) errors.callTimeoutMs = timeoutError;
  if (!errors.name && (await findConnectionByName(deps, principal.workspaceId, input.name))) {
    errors.name = `A connection named "${input.name}" exists already; names are the tool prefix and must be unique.`;
  }
  const urlKeyError = checkUrlKey(input.url, input.auth.kind);
  if (urlKeyError) errors.url = urlKeyError;
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  if (input.auth.kind === "id-jag") return addIdJagConnection(deps, principal, { ...input, auth: input.auth }, now);
  const secret = deferred ? null : toSecret(input.auth);
  const oauth = input.auth.kind === "oauth";
  const waiting = oauth || deferred;
  const probed = waiting ? await checkUrlOnly(deps, input.url.trim()) : await probe(deps, input.url.trim(), secret);
  if (!probed.ok) return probed;
  // A token given for a per-member connection is the adding admin's own; an OAuth client stays shared.
  const credentialOwner = sharing === "per_member" && !oauth ? principal.userId : null;

  const id = newId();
  const row: ConnectionRow = {
    id,
    workspaceId: principal.workspaceId,
    name: input.name,
    url: new URL(input.url.trim()).toString(),
    authKind: input.auth.kind,
    authHeader: storedAuthHeader(input.auth),
    status: waiting ? "needs_reauth" : "connected",
    statusDetail: deferred ? NO_MEMBER_CONNECTED : oauth ? OAUTH_NOT_CONNECTED : null,
    consecutiveFailures: 0,
    pausedUntil: null,
    lastSyncedAt: waiting ? null : now,
    callTimeoutMs: input.callTimeoutMs ?? null,
    catalogId: input.catalogId ?? null,
    createdAt: now,
    updatedAt: now,
    sharing,
    exposeNewTools: input.expose === "all",
    heldMode: "hide",
    serverCapabilities: probed.server?.capabilities ?? null,
    serverInstructions: probed.server?.instructions ?? null,
  };
  // Sealed before the transaction: other requests' statements wait while one is open.
  const sealed = secret ? await sealCredential(database, deps.keyring, { connectionId: id, workspaceId: principal.workspaceId, userId: credentialOwner }, secret, null, now) : null;
  try {
    const report = await database.transaction(async (tx) => {
      await tx.insert(t.connections).values(row);
      if (sealed) await writeCredential(tx, database, sealed);
      if (probed.items) await storeItems(tx, database, id, probed.items, { now, enabled: row.exposeNewTools });
      const stored = await storeTools(tx, database, id, probed.tools, { now, enabled: () => row.exposeNewTools });
      await recordAudit(database, tx, { workspaceId: principal.workspaceId, action: "connection.added", target: `connection:${id}`, details: { name: row.name, url: urlForAudit(row.url), authKind: row.authKind, sharing, exposeAll: row.exposeNewTools, tools: probed.tools.length } });
      return stored;
    });
    deps.toolIndex.changed(principal.workspaceId);
    deps.log.info("connection added", { connection: input.name, workspaceId: principal.workspaceId, sharing, tools: probed.tools.length });
    return { ok: true, connection: row, tools: probed.tools, report };
  } catch (error) {
    // Two adds racing for one name: the unique index decides.
    if (await findConnectionByName(deps, principal.workspaceId, input.name)) {
      return { ok: false, errors: { name: `A connection named "${input.name}" exists already.` } };
    }
    throw error;
  }
}
