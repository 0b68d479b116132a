import { and, eq } from "drizzle-orm";
import type { AppDeps } from "../deps.ts";
import type { Principal } from "../accounts/principal.ts";
import { newId } from "../crypto/tokens.ts";
import { checkConnectionName } from "./names.ts";
import { checkUpstreamUrl } from "../net/url-policy.ts";
import { deleteCredential, loadCredential, sealCredential, writeCredential } from "./credentials.ts";
import { hasUrlKeyPlaceholder, type UpstreamSecret } from "./secret.ts";
import { redactSecret } from "./redact.ts";
import { oauthDataOf, operatorClient, toOAuthSecret } from "../upstream/oauth/data.ts";
import { connectUpstream, describeUpstreamError, isRetryableDiscovery } from "../upstream/client.ts";
import { discoverTools, storeTools, type SyncReport } from "./sync.ts";
import type { ToolDefinition } from "./tool-defs.ts";
import type { ConnectionMeta, ConnectionRow, ToolRow } from "./types.ts";
import { setConnectionStatus } from "./status.ts";
import { recordUpstreamFailure, recordUpstreamSuccess } from "../upstream/health.ts";
import { DEFAULT_RETRY, deadlineSignal, withRetries } from "../upstream/retry.ts";
import { deleteMemberCredentials, findDiscoveryMember } from "./member-credentials.ts";
import { CREDENTIAL_FOR_OLD_SERVER, relocatePerMember, sameOrigin, type MemberCredentialChange } from "./relocation.ts";
import { createGuardedFetch } from "../net/guarded-fetch.ts";
import type { Exposure } from "./exposure.ts";
import { chooseAuthMessage } from "./auth-kinds/kinds.ts";
import { discoverIdJagIssuer } from "../upstream/oauth/id-jag.ts";

export type ConnectionDeps = Pick<AppDeps, "database" | "keyring" | "config" | "log" | "pool" | "toolIndex">;

export type AuthInput =
  | { kind: "none" }
  | { kind: "bearer"; token: string }
  | { kind: "header"; header: string; value: string }
  /** An API key the server takes inside its URL, where the URL has `{key}`. */
  | { kind: "url"; key: string }
  /** Authorized afterwards by a person (Connect); optionally with a client the operator registered. */
  | { kind: "oauth"; clientId?: string; clientSecret?: string }
  /** Enterprise-managed: each member's token comes from their SSO sign-in; the gateway's client at the server's AS. */
  | { kind: "id-jag"; clientId: string; clientSecret: string };

/** Why an OAuth connection has no tools yet. */
export const OAUTH_NOT_CONNECTED = "Connect to authorize";

export type Sharing = "shared" | "per_member";
export type AddConnectionInput = {
  name: string;
  url: string;
  auth: AuthInput;
  callTimeoutMs?: number | null;
  catalogId?: string | null;
  sharing?: Sharing;
  /** "all" exposes every tool at once; otherwise (the default) none until an admin picks. */
  expose?: Exposure;
};

/** Why a per-member connection has no tools yet. */
export const NO_MEMBER_CONNECTED = "No member has connected their account yet";
export type FieldErrors = Record<string, string>;
export type AddConnectionResult =
  | { ok: true; connection: ConnectionRow; tools: ToolDefinition[]; report: SyncReport }
  | { ok: false; errors: FieldErrors };

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
// Headers the transport owns; a credential may not replace them.
const RESERVED_HEADERS = new Set(["host", "content-length", "content-type", "accept", "connection", "transfer-encoding", "mcp-session-id", "mcp-protocol-version", "cookie"]);
const CONTROL = /\p{Cc}/u;

export function checkAuthInput(auth: AuthInput): FieldErrors {
  const errors: FieldErrors = {};
  if (auth.kind === "bearer") {
    if (!auth.token.trim()) errors.token = "Paste the API key or token the server expects.";
    else if (CONTROL.test(auth.token) || /\s/.test(auth.token.trim())) errors.token = "The token has spaces or control characters; paste it without them.";
  } else if (auth.kind === "header") {
    if (!HEADER_NAME.test(auth.header)) errors.header = "Give a header name such as X-API-Key (letters, digits and dashes).";
    else if (RESERVED_HEADERS.has(auth.header.toLowerCase())) errors.header = `${auth.header} is set by the gateway itself; use another header.`;
    if (!auth.value.trim()) errors.value = "Paste the header's value.";
    else if (CONTROL.test(auth.value)) errors.value = "The value has control characters; paste it without them.";
  } else if (auth.kind === "url") {
    if (!auth.key.trim()) errors.key = "Paste the API key that goes into the URL.";
    else if (CONTROL.test(auth.key) || /\s/.test(auth.key.trim())) errors.key = "The key has spaces or control characters; paste it without them.";
  } else if (auth.kind === "oauth") {
    if (auth.clientSecret && !auth.clientId) errors.clientId = "Give the client ID that goes with the client secret.";
    else if (auth.clientId !== undefined && (auth.clientId.length > 512 || CONTROL.test(auth.clientId))) errors.clientId = "That does not look like a client ID.";
  } else if (auth.kind === "id-jag") {
    if (!auth.clientId.trim() || auth.clientId.length > 512 || CONTROL.test(auth.clientId)) errors.clientId = "Give the client ID the server's authorization server registered for the gateway.";
    if (!auth.clientSecret.trim() || auth.clientSecret.length > 4096 || CONTROL.test(auth.clientSecret)) errors.clientSecret = "Give the client secret that goes with the client ID.";
  } else if (auth.kind !== "none") {
    errors.auth = chooseAuthMessage();
  }
  return errors;
}

/** `{key}` in the URL goes with a key-in-URL credential, and only with it. */
export function checkUrlKey(url: string, auth: AuthInput): string | null {
  const placeholder = hasUrlKeyPlaceholder(url);
  if (auth.kind === "url" && !placeholder) return "Put {key} in the URL where the API key goes, e.g. https://mcp.firecrawl.dev/{key}/v2/mcp.";
  if (auth.kind !== "url" && placeholder) return "The URL has {key} in it: choose the key-in-URL authentication, or remove it.";
  return null;
}

export function toSecret(auth: AuthInput): UpstreamSecret | null {
  if (auth.kind === "bearer") return { kind: "bearer", token: auth.token.trim() };
  if (auth.kind === "header") return { kind: "header", header: auth.header, value: auth.value.trim() };
  if (auth.kind === "url") return { kind: "url", key: auth.key.trim() };
  if (auth.kind === "oauth" && auth.clientId) return toOAuthSecret(operatorClient(auth.clientId.trim(), auth.clientSecret?.trim()));
  return null;
}

/** Only the URL policy: an OAuth server is not usable before a person authorizes it. */
async function checkUrlOnly(deps: ConnectionDeps, url: string): Promise<{ ok: true; tools: ToolDefinition[] } | { ok: false; errors: FieldErrors }> {
  const checked = await checkUpstreamUrl(url, deps.config.upstreamAllow);
  return checked.ok ? { ok: true, tools: [] } : { ok: false, errors: { url: checked.reason } };
}

export function checkCallTimeout(value: number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return Number.isInteger(value) && value >= 1000 && value <= 3_600_000 ? null : "Use a whole number of milliseconds from 1000 to 3600000.";
}

/** Connects once with the given credential and lists the tools: proves URL and credential work. */
export async function probe(deps: ConnectionDeps, url: string, secret: UpstreamSecret | null): Promise<{ ok: true; tools: ToolDefinition[] } | { ok: false; errors: FieldErrors }> {
  const checked = await checkUpstreamUrl(url, deps.config.upstreamAllow);
  if (!checked.ok) return { ok: false, errors: { url: checked.reason } };
  try {
    const client = await connectUpstream({ url: checked.url.toString(), secret, allow: deps.config.upstreamAllow });
    try {
      return { ok: true, tools: await discoverTools(client, deps.config.callTimeoutMs) };
    } finally {
      await client.close().catch(() => undefined);
    }
  } catch (error) {
    const failure = describeUpstreamError(error);
    const message = redactSecret(`The gateway could not use this server: ${failure.message}.`, secret);
    return { ok: false, errors: failure.kind === "auth" ? { auth: message } : { url: message } };
  }
}

export async function addConnection(deps: ConnectionDeps, principal: Principal, input: AddConnectionInput, now = Date.now()): Promise<AddConnectionResult> {
  const { database } = deps;
  const { t } = database;
  const sharing = input.sharing ?? "shared";
  // Per member, the admin's own credential is optional: without one, the first member to connect sets the tools.
  const deferred = sharing === "per_member" && isEmptySecret(input.auth);
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
  const urlKeyError = checkUrlKey(input.url, input.auth);
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
    authHeader: input.auth.kind === "header" ? input.auth.header : null,
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
  };
  // Sealed before the transaction: other requests' statements wait while one is open.
  const sealed = secret ? await sealCredential(database, deps.keyring, { connectionId: id, workspaceId: principal.workspaceId, userId: credentialOwner }, secret, null, now) : null;
  try {
    const report = await database.transaction(async (tx) => {
      await tx.insert(t.connections).values(row);
      if (sealed) await writeCredential(tx, database, sealed);
      return storeTools(tx, database, id, probed.tools, { now, enabled: () => row.exposeNewTools });
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

export async function findConnectionByName(deps: Pick<ConnectionDeps, "database">, workspaceId: string, name: string): Promise<ConnectionRow | null> {
  const { t } = deps.database;
  const [row] = await deps.database.db.select().from(t.connections).where(and(eq(t.connections.workspaceId, workspaceId), eq(t.connections.name, name)));
  return row ?? null;
}

/** Loads by (workspace, id): another workspace's connection is simply not found. */
export async function getConnection(deps: Pick<ConnectionDeps, "toolIndex">, workspaceId: string, id: string): Promise<ConnectionMeta | null> {
  const index = await deps.toolIndex.get(workspaceId);
  return index.connections.get(id) ?? null;
}

export async function listConnections(deps: Pick<ConnectionDeps, "toolIndex">, workspaceId: string): Promise<ConnectionMeta[]> {
  return [...(await deps.toolIndex.get(workspaceId)).connections.values()];
}

export async function listConnectionTools(deps: Pick<ConnectionDeps, "toolIndex">, workspaceId: string, connectionId: string): Promise<ToolRow[]> {
  const index = await deps.toolIndex.get(workspaceId);
  return [...index.routes.values()]
    .filter((r) => r.connectionId === connectionId)
    .map((r) => ({ ...r.definition, enabled: r.enabled, exposedName: r.exposedName }));
}

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
  const urlKeyError = input.url !== undefined || input.auth !== undefined ? checkUrlKey(input.url ?? current.url, input.auth ?? currentAuthKind(current)) : null;
  if (urlKeyError) errors.url = urlKeyError;
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  let probed: { ok: true; tools: ToolDefinition[] } | null = null;
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
        ...(input.auth ? { authKind: input.auth.kind, authHeader: input.auth.kind === "header" ? input.auth.header : null } : {}),
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
    return probed ? storeTools(tx, database, id, probed.tools, { now, enabled: () => current.exposeNewTools }) : null;
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

/** A per-member connection may be added without the admin's own token (members bring theirs). */
function isEmptySecret(auth: AuthInput): boolean {
  if (auth.kind === "bearer") return !auth.token.trim();
  if (auth.kind === "header") return !auth.value.trim() && HEADER_NAME.test(auth.header);
  if (auth.kind === "url") return !auth.key.trim();
  return false;
}

/** The kind of a connection's current credential, for checks that need one (its secret is not needed). */
function currentAuthKind(connection: ConnectionRow): AuthInput {
  switch (connection.authKind) {
    case "bearer":
      return { kind: "bearer", token: "" };
    case "header":
      return { kind: "header", header: connection.authHeader ?? "", value: "" };
    case "url":
      return { kind: "url", key: "" };
    case "oauth":
      return { kind: "oauth" };
    case "id-jag":
      return { kind: "id-jag", clientId: "", clientSecret: "" };
    default:
      return { kind: "none" };
  }
}

/** Deletes the connection, its tools and its stored credential. */
export async function deleteConnection(deps: ConnectionDeps, principal: Principal, id: string): Promise<boolean> {
  const { t } = deps.database;
  const removed = await deps.database.transaction(async (tx) => {
    await tx.delete(t.credentials).where(and(eq(t.credentials.connectionId, id), eq(t.credentials.workspaceId, principal.workspaceId)));
    await tx.delete(t.memberCredentials).where(and(eq(t.memberCredentials.connectionId, id), eq(t.memberCredentials.workspaceId, principal.workspaceId)));
    return tx.delete(t.connections).where(and(eq(t.connections.id, id), eq(t.connections.workspaceId, principal.workspaceId))).returning({ id: t.connections.id });
  });
  if (removed.length === 0) return false;
  deps.pool.drop(id);
  deps.toolIndex.changed(principal.workspaceId);
  deps.log.info("connection removed", { connectionId: id, workspaceId: principal.workspaceId });
  return true;
}

export type SyncResult = { ok: true; report: SyncReport } | { ok: false; error: string } | { ok: false; notFound: true };

/** Re-lists the upstream's tools now and reports what was added, removed and changed. */
export async function syncConnection(deps: ConnectionDeps, workspaceId: string, id: string, now = Date.now()): Promise<SyncResult> {
  return resyncConnection(deps, workspaceId, id, { why: "re-synced", now });
}

/**
 * "Retry now" from the dashboard: checks the connection at once, whatever its status or pause
 * window, by listing its tools. Success makes it Connected with its tools re-synced; failure keeps
 * it in Error (or Paused, with a longer window). Read the connection again for the new status.
 */
export async function retryConnectionNow(deps: ConnectionDeps, workspaceId: string, id: string): Promise<SyncResult> {
  return resyncConnection(deps, workspaceId, id, { why: "retried now by a person" });
}

/**
 * Lists the upstream's tools and stores them: the one check that can end an Error or a pause.
 * Discovery changes nothing upstream, so it is retried with backoff inside the deadline (unless
 * `attempts` says otherwise). One runs at a time per connection; a second caller shares the
 * running one's outcome.
 */
export async function resyncConnection(
  deps: ConnectionDeps,
  workspaceId: string,
  id: string,
  options: { why: string; now?: number; attempts?: number; /** Lists as this member when none has connected yet. */ as?: string },
): Promise<SyncResult> {
  const connection = await getConnection(deps, workspaceId, id);
  if (!connection) return { ok: false, notFound: true };
  // A per-member connection's tools are listed with the credential of whoever connected first.
  const discoveryUser = connection.sharing === "per_member" ? ((await findDiscoveryMember(deps.database, id)) ?? options.as ?? null) : null;
  if (connection.sharing === "per_member" && !discoveryUser) return { ok: false, error: `Sync failed: ${NO_MEMBER_CONNECTED.toLowerCase()}.` };
  return deps.pool.probeOnce(id, async (): Promise<SyncResult> => {
    const timeoutMs = connection.callTimeoutMs ?? deps.config.callTimeoutMs;
    const deadline = deadlineSignal(timeoutMs);
    let secret: UpstreamSecret | null = null;
    try {
      const tools = await withRetries(
        () =>
          deps.pool.use(connection, { signal: deadline.signal, userId: discoveryUser }, (pooled) => {
            secret = pooled.secret;
            return discoverTools(pooled.client, Math.max(1, deadline.at - Date.now()));
          }),
        {
          deadlineAt: deadline.at,
          signal: deadline.signal,
          policy: { ...DEFAULT_RETRY, attempts: options.attempts ?? DEFAULT_RETRY.attempts },
          retryable: (error) => isRetryableDiscovery(describeUpstreamError(error)),
        },
      );
      const now = options.now ?? Date.now();
      const report = await deps.database.transaction((tx) => storeTools(tx, deps.database, id, tools, { now, enabled: () => connection.exposeNewTools }));
      await recordUpstreamSuccess(deps, connection, { lastSyncedAt: now, reason: `${options.why}: tools listed`, now });
      if (report.added.length + report.removed.length + report.changed.length > 0) deps.toolIndex.changed(workspaceId);
      return { ok: true, report };
    } catch (error) {
      const failure = describeUpstreamError(error);
      const reason = redactSecret(failure.message, secret);
      await recordUpstreamFailure(deps, connection, failure, reason, { probe: true, now: options.now });
      return { ok: false, error: `Sync failed: ${reason}.` };
    } finally {
      deadline.clear();
    }
  });
}

export async function setToolEnabled(deps: ConnectionDeps, workspaceId: string, connectionId: string, toolName: string, enabled: boolean): Promise<boolean> {
  const { t } = deps.database;
  const connection = await getConnection(deps, workspaceId, connectionId);
  if (!connection) return false;
  const updated = await deps.database.db
    .update(t.tools)
    .set({ enabled })
    .where(and(eq(t.tools.connectionId, connectionId), eq(t.tools.name, toolName)))
    .returning({ name: t.tools.name });
  if (updated.length === 0) return false;
  deps.toolIndex.changed(workspaceId);
  return true;
}

/**
 * An enterprise-managed (ID-JAG) connection: the server's authorization server must accept
 * jwt-bearer grants; the client the admin registered there is sealed, pinned to that issuer; the
 * tools are listed with the adding admin's own token, obtained through their SSO sign-in. If that
 * fails the connection is not kept, and the form says why.
 */
async function addIdJagConnection(deps: ConnectionDeps, principal: Principal, input: AddConnectionInput & { auth: { kind: "id-jag" } }, now: number): Promise<AddConnectionResult> {
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
