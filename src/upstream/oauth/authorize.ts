import { auth, computeScopeUnion, extractWWWAuthenticateParams, OAuthError, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { and, eq } from "drizzle-orm";
import type { AppDeps } from "../../deps.ts";
import type { ConnectionRow } from "../../connections/types.ts";
import { setConnectionStatus } from "../../connections/status.ts";
import { syncConnection } from "../../connections/resync.ts";
import { describeUpstreamError } from "../client.ts";
import { clientMetadata, redirectUri } from "./client-identity.ts";
import { AuthorizationServerRefused } from "./errors.ts";
import { FlowProvider } from "./flow-provider.ts";
import { saveFlow, takeFlow, type FlowDisplay } from "./flows.ts";
import { describeOAuthError } from "./manager.ts";
import type { OAuthData } from "./data.ts";

export type OAuthDeps = Pick<AppDeps, "database" | "keyring" | "config" | "log" | "pool" | "toolIndex" | "oauth">;

export type StartResult = { ok: true; authorizationUrl: string; expiresAt: number } | { ok: false; reason: string };

/**
 * Starts (or restarts) the authorization of an OAuth connection: asks the server what protects it,
 * lets the SDK discover the authorization server, pick our client identity and build the PKCE
 * authorization URL, and keeps what the callback will need. Returns the URL to send the person to.
 */
export async function startAuthorization(
  deps: OAuthDeps,
  connection: ConnectionRow,
  options: { userId: string | null; display: FlowDisplay; forMember?: boolean },
): Promise<StartResult> {
  if (connection.authKind !== "oauth") return { ok: false, reason: `${connection.name} does not sign in with OAuth.` };
  if (options.forMember && !options.userId) return { ok: false, reason: "Sign in to connect your own account." };
  const ids = options.forMember ? { ...connection, userId: options.userId } : connection;
  const data = await loadFlowData(deps, connection, ids);
  const provider = new FlowProvider({
    manager: deps.oauth,
    connection: ids,
    data,
    redirectUrl: redirectUri(deps.config),
    clientMetadata: clientMetadata(deps.config),
    clientMetadataUrl: deps.oauth.clientMetadataUrl,
  });
  let scope: string | undefined;
  try {
    const challenge = await readChallenge(deps, connection.url);
    // Step-up keeps what was granted and adds what the server asked for since.
    scope = data.stepUpScope ? computeScopeUnion(challenge.scope, data.scope, data.stepUpScope) : challenge.scope;
    const result = await auth(provider, { serverUrl: connection.url, resourceMetadataUrl: challenge.resourceMetadataUrl, scope, fetchFn: deps.oauth.fetch });
    if (result !== "REDIRECT" || !provider.authorizationUrl || !provider.verifier) {
      return { ok: false, reason: "The authorization server did not ask for a sign-in; this server may not need OAuth." };
    }
  } catch (error) {
    const reason = describeFlowError(error);
    deps.log.warn("oauth authorization could not start", { connectionId: connection.id, reason });
    return { ok: false, reason };
  }
  const state = provider.stateIssued;
  if (!state) return { ok: false, reason: "The authorization request carried no state." };
  const requested = provider.authorizationUrl.searchParams.get("scope") ?? scope;
  const expiresAt = await saveFlow(
    deps.database,
    deps.keyring,
    state,
    {
      connectionId: connection.id,
      workspaceId: connection.workspaceId,
      userId: options.userId,
      secret: { codeVerifier: provider.verifier, discovery: provider.discovery, scope: requested ?? undefined, display: options.display, forMember: options.forMember === true },
    },
    deps.oauth.now(),
  );
  deps.log.info("oauth authorization started", { connectionId: connection.id });
  return { ok: true, authorizationUrl: provider.authorizationUrl.toString(), expiresAt };
}

export type FinishResult =
  | { ok: true; connection: ConnectionRow; tools: number; display: FlowDisplay }
  | { ok: false; reason: string; connection: ConnectionRow | null; display: FlowDisplay };

/**
 * The callback: the `state` must name a pending flow (once, within 10 minutes, for this user); the
 * SDK then checks `iss`, redeems the code with the PKCE verifier and `resource`, and we store the
 * tokens, list the tools and mark the connection connected.
 */
export async function finishAuthorization(deps: OAuthDeps, query: URLSearchParams, who: { userId: string; workspaceId: string }): Promise<FinishResult> {
  const state = query.get("state");
  if (!state) return { ok: false, reason: "The authorization answer carried no state; start again from the dashboard.", connection: null, display: "page" };
  const taken = await takeFlow(deps.database, deps.keyring, state, deps.oauth.now());
  if (!taken.ok) {
    const reason =
      taken.reason === "expired"
        ? "This authorization took longer than 10 minutes and expired; start it again from the dashboard."
        : "This authorization is unknown or was already used; start it again from the dashboard.";
    return { ok: false, reason, connection: null, display: "page" };
  }
  const { flow } = taken;
  const display = flow.secret.display;
  if (flow.workspaceId !== who.workspaceId || (flow.userId !== null && flow.userId !== who.userId)) {
    return { ok: false, reason: "This authorization was started by someone else; start it again yourself.", connection: null, display };
  }
  const connection = await loadConnection(deps, flow.workspaceId, flow.connectionId);
  if (!connection) return { ok: false, reason: "The connection was removed while it was being authorized.", connection: null, display };
  const forMember = flow.secret.forMember === true && flow.userId !== null;
  const ids = forMember ? { ...connection, userId: flow.userId } : connection;

  const provider = new FlowProvider({
    manager: deps.oauth,
    connection: ids,
    data: await loadFlowData(deps, connection, ids),
    redirectUrl: redirectUri(deps.config),
    clientMetadata: clientMetadata(deps.config),
    clientMetadataUrl: deps.oauth.clientMetadataUrl,
    pending: flow.secret,
  });
  try {
    // The whole callback query: the SDK checks `iss` (RFC 9207) and surfaces an `error` answer.
    const transport = new StreamableHTTPClientTransport(new URL(connection.url), { fetch: deps.oauth.fetch, authProvider: provider });
    await transport.finishAuth(query);
    if (!provider.tokensReceived) throw new Error("the authorization server returned no tokens");
    await deps.oauth.storeAuthorization(ids, provider.tokensReceived, flow.secret.scope, provider.discovery);
  } catch (error) {
    const reason = `The authorization did not complete: ${describeFlowError(error)}`;
    // A refused Re-authorize leaves a working grant alone; a connection waiting for one shows why.
    if (connection.status === "needs_reauth") await setConnectionStatus(deps, connection, "needs_reauth", reason);
    return { ok: false, reason, connection, display };
  }
  deps.pool.drop(connection.id, forMember ? { userId: flow.userId } : {});
  // A member joining a per-member connection that already lists its tools changes nothing for the others.
  if (forMember && connection.status === "connected") {
    const listed = [...(await deps.toolIndex.get(connection.workspaceId)).routes.values()].filter((r) => r.connectionId === connection.id).length;
    return { ok: true, connection, tools: listed, display };
  }
  const synced = await syncConnection(deps, connection.workspaceId, connection.id);
  if (!synced.ok) return { ok: false, reason: "notFound" in synced ? "The connection was removed." : synced.error, connection, display };
  deps.toolIndex.changed(connection.workspaceId);
  deps.log.info("oauth authorization finished", { connectionId: connection.id, tools: synced.report.total });
  return { ok: true, connection, tools: synced.report.total, display };
}

/**
 * Discovery starts where the spec says: an unauthenticated request, whose 401 names the
 * protected-resource metadata and the scope. A server that does not answer 401 is still
 * discovered through the well-known paths by the SDK.
 */
async function readChallenge(deps: OAuthDeps, url: string): Promise<{ resourceMetadataUrl?: URL; scope?: string }> {
  const response = await deps.oauth.fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "mcp-gateway", version: "0.1.0" } },
    }),
    signal: AbortSignal.timeout(15_000),
  });
  await response.body?.cancel().catch(() => undefined);
  if (response.status !== 401 && response.status !== 403) return {};
  const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(response);
  return { resourceMetadataUrl, scope };
}

/**
 * What a flow starts from. A member's first authorization on a per-member connection has no
 * client of its own yet: it uses the client an operator registered for the connection, if any
 * (otherwise the SDK registers one for the member, kept in their own credential).
 */
async function loadFlowData(deps: OAuthDeps, connection: ConnectionRow, ids: ConnectionRow & { userId?: string | null }): Promise<OAuthData> {
  const data = await deps.oauth.load(ids);
  if (!ids.userId || data.client) return data;
  const shared = await deps.oauth.load(connection);
  return shared.clientSource === "operator" ? { ...data, client: shared.client, clientSource: "operator" } : data;
}

async function loadConnection(deps: OAuthDeps, workspaceId: string, id: string): Promise<ConnectionRow | null> {
  const { t } = deps.database;
  const [row] = await deps.database.db.select().from(t.connections).where(and(eq(t.connections.id, id), eq(t.connections.workspaceId, workspaceId)));
  return row ?? null;
}

/** A sentence for the person; OAuth error descriptions come from the server and are clipped. */
function describeFlowError(error: unknown): string {
  if (error instanceof AuthorizationServerRefused) return error.reason;
  if (error instanceof OAuthError) return `the authorization server answered ${describeOAuthError(error)}`;
  const failure = describeUpstreamError(error);
  return failure.message;
}
