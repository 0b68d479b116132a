import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type McpHttpHandler,
  type Server,
} from "@modelcontextprotocol/server";
import { credentialId, type Principal } from "../accounts/principal.ts";
import { findMcpPrincipal, readBearer } from "../web/guard.ts";
import { isOwnOrigin } from "../web/host-check.ts";
import type { CallDeps } from "./results.ts";
import type { McpEndpoint } from "../deps.ts";
import { createGatewayServer } from "./mcp-server.ts";
import { fastCallOf, fastListOf, serveFastCall, serveFastList } from "./fast-call.ts";
import { holderOf, releaseWhenClosed, StreamSlots, tooMany } from "./open-limits.ts";
import { mintSessionId, verifySessionId, type SessionBinding } from "./session-ids.ts";
import { openAtOnce } from "./sse-open.ts";
import { checkConnectionName } from "../connections/names.ts";
import { WORKSPACE_VIEW, type GatewayView } from "./view.ts";
import { listenBodyInProfile, uriInView, watchListenedResources } from "./resources.ts";
import type { UpdateListener } from "./resource-watch.ts";
import { principalForPath, profileOfPath } from "./profile-endpoint.ts";

export const MCP_PATH = "/api/v1/mcp";
export const RESOURCE_METADATA_PATH = `/.well-known/oauth-protected-resource${MCP_PATH}`;

/**
 * The view a path asks for: the workspace at /api/v1/mcp, one connection at /api/v1/mcp/<name>
 * (a trailing slash allowed on either), null for any other path.
 */
export function viewOfPath(path: string): GatewayView | null {
  if (path === MCP_PATH || path === `${MCP_PATH}/`) return WORKSPACE_VIEW;
  if (!path.startsWith(`${MCP_PATH}/`)) return null;
  const rest = path.slice(MCP_PATH.length + 1);
  const segment = rest.endsWith("/") ? rest.slice(0, -1) : rest;
  if (segment === "" || segment.includes("/")) return null;
  return { kind: "connection", connectionName: segment };
}

/** Whether the MCP endpoint serves this path: a view's, or a profile's (/api/v1/mcp/p/<profile>). */
export function isMcpPath(path: string): boolean {
  return viewOfPath(path) !== null || profileOfPath(path) !== null;
}

const DATABASE_UNAVAILABLE = "The gateway cannot reach its database to check this key just now. Try again in a few seconds.";

/**
 * A 2025 session is idle when nothing of it is open (no GET stream, no answer still streaming) and
 * no request came for SESSION_IDLE_MS: `lastSeen` is the later of its last request and the end of
 * its last open response. `adopted`: opened here for a GET stream of a session another replica
 * began (see takeUpSession).
 */
type LegacySession = { transport: WebStandardStreamableHTTPServerTransport; server: Server; principal: Principal; view: GatewayView; lastSeen: number; open: number; adopted?: boolean };

export type McpEndpointOptions = {
  /** The clock idle sessions are judged by (tests move it). */
  now?: () => number;
};

/**
 * The MCP endpoint: the workspace's at /api/v1/mcp and each connection's at /api/v1/mcp/<name>
 * (view.ts), with the same checks, limits and sessions. Every request is authenticated with a
 * gateway API key (a session id is never a credential). 2026-07-28 requests go to a per-workspace
 * stateless handler; 2025 clients get sessions so they can hear list_changed — and a session id
 * this replica does not know is served statelessly, so a load balancer may send the next request
 * anywhere. What one caller may hold open is capped (open-limits.ts): past a key's or a member's
 * cap of sessions the idlest of theirs is closed; past the total, and past any cap of streams, the
 * answer is 429.
 */
export function createMcpEndpoint(deps: CallDeps, options: McpEndpointOptions = {}): McpEndpoint {
  const { config } = deps;
  const now = options.now ?? Date.now;
  const maxRequestBodySize = config.maxBodyBytes;
  const modern = new Map<string, McpHttpHandler>();
  // In least-recently-used order: a request moves its session to the end (touchSession).
  const sessions = new Map<string, LegacySession>();
  // Sessions being taken up from another replica, so that two requests at once open one.
  const adopting = new Map<string, Promise<LegacySession | Response | null>>();
  // Sessions ended here on purpose (DELETE, or closed as a caller's idlest): not taken up again here.
  const ended = new Set<string>();
  const streams = new StreamSlots(config.streamLimits);
  const principalOf = (auth: AuthInfo | undefined): Principal => auth?.extra?.principal as Principal;
  const viewOf = (auth: AuthInfo | undefined): GatewayView => (auth?.extra?.view as GatewayView | undefined) ?? WORKSPACE_VIEW;
  // One handler per workspace serves every view of it: the view travels with the request.
  const factory = ({ authInfo }: { authInfo?: AuthInfo }) => createGatewayServer(deps, principalOf(authInfo), viewOf(authInfo));
  const stateless = legacyStatelessFallback(factory, undefined, { maxRequestBodySize });
  // Read per request: with PORT=0 the base URL is only known after listening.
  const isAllowedOrigin = (origin: string): boolean => isOwnOrigin(origin, config.baseUrl) || config.allowedOrigins.includes(origin);
  // Often enough that a session outlives its idle limit by a quarter of it at most.
  const sweeper = setInterval(() => reapIdleSessions(), Math.min(60_000, Math.max(1000, config.sessionIdleMs / 4)));
  sweeper.unref();

  // One listener per workspace for resource changes: the SDK's listen router sends each to the streams that named the URI.
  // A connection's own URL names its upstream's URIs, so its streams hear them under those.
  const updateListeners = new Map<string, UpdateListener>();
  function updatesFor(workspaceId: string, view: GatewayView): UpdateListener {
    const key = `${workspaceId}\n${viewKey(view)}`;
    let listener = updateListeners.get(key);
    if (!listener) {
      listener = (uri) => {
        const shown = uriInView(view, uri);
        if (shown !== null) handlerFor(workspaceId).notify.resourceUpdated(shown);
      };
      updateListeners.set(key, listener);
    }
    return listener;
  }

  function handlerFor(workspaceId: string): McpHttpHandler {
    let handler = modern.get(workspaceId);
    if (!handler) {
      // The SDK's own cap on listen streams (1024 per handler) would refuse before ours, without a reason.
      const maxSubscriptions = config.streamLimits.total;
      handler = createMcpHandler(factory, { legacy: "reject", maxRequestBodySize, maxSubscriptions, onerror: (e) => deps.log.debug("mcp handler", { error: e.message }) });
      modern.set(workspaceId, handler);
    }
    return handler;
  }

  /** Clients that vanish without DELETE leave their sessions behind: closed once idle, their places freed. */
  function reapIdleSessions(): void {
    const at = now();
    for (const [id, session] of sessions) {
      if (session.open === 0 && at - session.lastSeen >= config.sessionIdleMs) {
        sessions.delete(id);
        void session.transport.close().catch(() => undefined);
      }
    }
  }

  function touchSession(id: string, session: LegacySession): void {
    session.lastSeen = now();
    sessions.delete(id);
    sessions.set(id, session);
  }

  /** Marks the session busy until `response`'s body ends (or the client goes). */
  async function whileOpen(session: LegacySession, request: Request, respond: () => Promise<Response>, release: () => void = () => undefined): Promise<Response> {
    session.open++;
    let ended = false;
    // The stream may end several ways at once (the client goes, the body is cancelled): count one.
    const done = (): void => {
      if (ended) return;
      ended = true;
      session.open--;
      session.lastSeen = now();
      release();
    };
    let response: Response;
    try {
      response = await respond();
    } catch (error) {
      done();
      throw error;
    }
    return releaseWhenClosed(response, request.signal, done);
  }

  /** Closes the least recently used of the matching sessions until one more fits under the limit. */
  function closeIdlest(matches: (session: LegacySession) => boolean, limit: number): void {
    let count = 0;
    for (const session of sessions.values()) if (matches(session)) count++;
    for (const [id, session] of sessions) {
      if (count < limit) return;
      if (!matches(session)) continue;
      sessions.delete(id);
      markEnded(id);
      count--;
      void session.transport.close().catch(() => undefined);
    }
  }

  async function serveLegacy(request: Request, principal: Principal, view: GatewayView, authInfo: AuthInfo, parsedBody: unknown): Promise<Response> {
    const options = { authInfo, ...(parsedBody !== undefined ? { parsedBody } : {}) };
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId) {
      let session = sessions.get(sessionId);
      // Another replica began it (a load balancer sent this GET here): any replica can check the id
      // and serve the session's stream, which hears list_changed like a session begun here.
      if (!session && request.method === "GET") {
        const taken = await takeUpSession(request, sessionId, principal, view, authInfo);
        if (taken instanceof Response) return taken;
        session = taken ?? undefined;
      }
      // Unknown here (a restart, closed as the idlest, or an id this gateway never issued): serve
      // statelessly rather than break the client.
      if (!session) return stateless(request, options);
      // A session serves the URL it began at: its server lists that view's names.
      if (credentialId(session.principal.credential) !== credentialId(principal.credential) || viewKey(session.view) !== viewKey(view) || session.principal.profileId !== principal.profileId) return jsonRpcError(404, -32001, "Session not found");
      touchSession(sessionId, session);
      // A taken-up session serves only its stream; its requests are served as before (statelessly).
      if (session.adopted && request.method !== "GET") return stateless(request, options);
      if (request.method !== "GET") return whileOpen(session, request, () => session.transport.handleRequest(request, options));
      // The session's GET stream (one at most, the SDK answers 409 to a second) holds a stream slot.
      const slot = streams.take(holderOf(principal));
      if ("refused" in slot) return tooMany("streams", slot.refused, streams.limits);
      return openAtOnce(await whileOpen(session, request, () => session.transport.handleRequest(request, options), slot.release));
    }
    if (request.method !== "POST" || !isInitializeRequest(parsedBody)) return stateless(request, options);
    reapIdleSessions();
    const opened = await openSession(principal, view, await mintSessionId(deps.keyring.sessionKey, bindingOf(principal, view)));
    if (opened instanceof Response) return opened;
    return opened.transport.handleRequest(request, options);
  }

  /** A new session on this replica under `id`, within the caps on what one caller may hold. */
  async function openSession(principal: Principal, view: GatewayView, id: string, marks: { adopted?: true } = {}): Promise<LegacySession | Response> {
    const holder = holderOf(principal);
    closeIdlest((s) => holderOf(s.principal).key === holder.key, config.sessionLimits.perKey);
    closeIdlest((s) => s.principal.userId === holder.user, config.sessionLimits.perUser);
    // Closing someone else's session to make room would let one caller push everyone out.
    if (sessions.size >= config.sessionLimits.total) return tooMany("sessions", "total", config.sessionLimits);
    const server = await createGatewayServer(deps, principal, view);
    const session: LegacySession = {
      server,
      principal,
      view,
      lastSeen: now(),
      open: 0,
      ...marks,
      transport: new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => id,
        maxRequestBodySize,
        onsessioninitialized: (sid) => void sessions.set(sid, session),
        onsessionclosed: (sid) => {
          sessions.delete(sid);
          markEnded(sid);
        },
      }),
    };
    await server.connect(session.transport);
    return session;
  }

  /**
   * A session this replica does not hold, whose id this request's key verifies (session-ids.ts):
   * opened here under the same id, so its GET stream is served and hears list_changed. The SDK
   * marks a transport initialized only through an initialize request, so it is given one in the
   * client's name; the client's own capabilities stay with the replica it initialized on.
   * Null when the id does not verify for this key.
   */
  async function takeUpSession(request: Request, id: string, principal: Principal, view: GatewayView, authInfo: AuthInfo): Promise<LegacySession | Response | null> {
    if (ended.has(id) || !(await verifySessionId(deps.keyring.sessionKey, id, bindingOf(principal, view)))) return null;
    const pending = adopting.get(id);
    if (pending) return pending;
    const adoption = (async (): Promise<LegacySession | Response | null> => {
      const opened = await openSession(principal, view, id, { adopted: true });
      if (opened instanceof Response) return opened;
      const protocolVersion = request.headers.get("mcp-protocol-version") ?? "2025-11-25";
      const initialize = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion, capabilities: {}, clientInfo: { name: "taken-up-session", version: "1" } } };
      const answer = await opened.transport.handleRequest(new Request(request.url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" } }), { authInfo, parsedBody: initialize });
      await answer.text();
      return sessions.get(id) ?? null;
    })().finally(() => adopting.delete(id));
    adopting.set(id, adoption);
    return adoption;
  }

  function markEnded(id: string): void {
    if (ended.size >= config.sessionLimits.total) ended.delete(ended.values().next().value as string);
    ended.add(id);
  }

  function bindingOf(principal: Principal, view: GatewayView): SessionBinding {
    // A profile's id after "p/": no connection name has a slash.
    const bound = view.kind === "connection" ? view.connectionName : principal.profileId !== undefined ? `p/${principal.profileId}` : undefined;
    return { workspaceId: principal.workspaceId, holderKey: holderOf(principal).key, ...(bound !== undefined ? { view: bound } : {}) };
  }

  /** Whether the principal's workspace has the view's connection (from the index in memory). */
  async function viewExists(principal: Principal, view: GatewayView): Promise<boolean> {
    if (view.kind === "workspace") return true;
    // A name the rules refuse (a row from before them) has no tools in the index either.
    if (checkConnectionName(view.connectionName) !== null) return false;
    const index = await deps.toolIndex.get(principal.workspaceId);
    for (const connection of index.connections.values()) if (connection.name === view.connectionName) return true;
    return false;
  }

  async function handle(request: Request, path: string = new URL(request.url).pathname): Promise<Response> {
    // /api/v1/mcp/p/<profile> is the workspace's view, limited to the profile (profile-endpoint.ts).
    const profileName = profileOfPath(path);
    const view = profileName === null ? (viewOfPath(path) ?? WORKSPACE_VIEW) : WORKSPACE_VIEW;
    const origin = request.headers.get("origin");
    if (origin !== null && !isAllowedOrigin(origin)) {
      return jsonRpcError(403, -32000, "Forbidden: this Origin may not call the MCP endpoint (an operator can allow it with ALLOWED_ORIGINS).");
    }
    const cors = origin ? corsHeaders(origin) : {};
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });

    const key = readBearer(request);
    // A gateway API key, or an OAuth access token issued by the gateway for this endpoint.
    const found = key ? await findMcpPrincipal(deps, key, `${config.baseUrl}${MCP_PATH}`) : null;
    if (found === "unavailable") return withHeaders(jsonRpcError(503, -32000, DATABASE_UNAVAILABLE), { "retry-after": "5", ...cors });
    if (!found) {
      const metadata = `${config.baseUrl}${RESOURCE_METADATA_PATH}`;
      const challenge = key ? `Bearer error="invalid_token", error_description="The key or token is unknown, revoked or expired", resource_metadata="${metadata}"` : `Bearer resource_metadata="${metadata}"`;
      return withHeaders(jsonRpcError(401, -32001, key ? "The API key or access token is unknown, revoked or expired." : "Send a gateway API key (Authorization: Bearer mgw_…) or sign in with OAuth."), { "www-authenticate": challenge, ...cors });
    }
    const declared = Number(request.headers.get("content-length") ?? "0");
    const tooLarge = (): Response => withHeaders(jsonRpcError(413, -32600, `Request body too large (limit ${maxRequestBodySize} bytes).`), cors);
    if (declared > maxRequestBodySize) return tooLarge();
    // After the key: only a caller of this workspace learns which connection and profile names it has.
    const access = await principalForPath(deps, found, view, profileName);
    if (!access.ok) return withHeaders(jsonRpcError(access.status, -32000, access.message), cors);
    const principal = access.principal;
    if (!(await viewExists(principal, view))) return withHeaders(noSuchConnection(view), cors);

    // The body is read and parsed once here, and the parsed message handed to the SDK, which
    // would otherwise clone and parse it twice (once to route the era, once to serve it).
    let parsedBody: unknown;
    if (request.method === "POST") {
      // Bun.serve stops reading a little past the limit (maxRequestBodySize in runtime.ts).
      const bytes = await request.arrayBuffer();
      if (bytes.byteLength > maxRequestBodySize) return tooLarge();
      parsedBody = parseJson(bytes);
      // Empty or not JSON: the SDK reads it again and answers with the error the spec names.
      if (parsedBody === undefined) request = new Request(request.url, { method: "POST", headers: request.headers, body: bytes, signal: request.signal });
    }

    // A plain 2026-07-28 tools/call, the hot path, and tools/list are answered without the SDK's server (fast-call.ts).
    if (config.fastRelay && parsedBody !== undefined) {
      const fast = fastCallOf(request, parsedBody);
      if (fast) return withHeaders(await serveFastCall(deps, principal, view, fast, request.signal), cors);
      const list = fastListOf(request, parsedBody);
      if (list) return withHeaders(await serveFastList(deps, principal, view, list), cors);
    }

    const credential = credentialId(principal.credential);
    const authInfo: AuthInfo = { token: credential ?? "", clientId: credential ?? principal.userId, scopes: [], extra: { principal, view } };
    const response = (await isLegacyRequest(request, parsedBody, { maxRequestBodySize }))
      ? await serveLegacy(request, principal, view, authInfo, parsedBody)
      : await serveModern(request, principal, authInfo, parsedBody);
    return withHeaders(response, cors);
  }

  async function serveModern(request: Request, principal: Principal, authInfo: AuthInfo, parsedBody: unknown): Promise<Response> {
    if (!isListenRequest(parsedBody)) return handlerFor(principal.workspaceId).fetch(request, { authInfo, ...(parsedBody !== undefined ? { parsedBody } : {}) });
    // Under a profile, a stream hears only the resources the profile may read.
    parsedBody = await listenBodyInProfile(deps, principal, parsedBody);
    const options = { authInfo, parsedBody };
    const slot = streams.take(holderOf(principal));
    if ("refused" in slot) return tooMany("streams", slot.refused, streams.limits);
    const view = viewOf(authInfo);
    const unwatch = await watchListenedResources(deps, principal, parsedBody, updatesFor(principal.workspaceId, view), view);
    return releaseWhenClosed(await handlerFor(principal.workspaceId).fetch(request, options), request.signal, () => {
      slot.release();
      unwatch();
    });
  }

  function corsHeaders(origin: string): Record<string, string> {
    return {
      "access-control-allow-origin": origin,
      "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
      "access-control-allow-headers": "authorization, content-type, mcp-session-id, mcp-protocol-version, last-event-id",
      "access-control-expose-headers": "mcp-session-id, www-authenticate",
      vary: "Origin",
    };
  }

  return {
    handle,
    notifyToolsChanged(workspaceId) {
      // The index does not say which list changed (tools, prompts, resources): every one is re-listed.
      const notify = modern.get(workspaceId)?.notify;
      notify?.toolsChanged();
      notify?.promptsChanged();
      notify?.resourcesChanged();
      for (const session of sessions.values()) {
        if (session.principal.workspaceId !== workspaceId) continue;
        void session.server.sendToolListChanged().catch(() => undefined);
        void session.server.sendPromptListChanged().catch(() => undefined);
        void session.server.sendResourceListChanged().catch(() => undefined);
      }
    },
    held: () => ({ sessions: sessions.size, streams: streams.held }),
    async close() {
      clearInterval(sweeper);
      await Promise.all([...modern.values()].map((h) => h.close()));
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => undefined)));
      sessions.clear();
    },
  };
}

const utf8 = new TextDecoder();

/** The parsed JSON of a body, or undefined when it is empty or not JSON. */
function parseJson(bytes: ArrayBuffer): unknown {
  if (bytes.byteLength === 0) return undefined;
  try {
    return JSON.parse(utf8.decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

function isListenRequest(body: unknown): boolean {
  return typeof body === "object" && body !== null && (body as { method?: unknown }).method === "subscriptions/listen";
}

function viewKey(view: GatewayView): string {
  return view.kind === "workspace" ? "" : view.connectionName;
}

function noSuchConnection(view: GatewayView): Response {
  // Echoed only when it is a name a connection could have (lowercase letters, digits, dashes).
  const named = view.kind === "connection" && checkConnectionName(view.connectionName) === null ? ` named "${view.connectionName}"` : " by that name";
  return jsonRpcError(404, -32000, `This workspace has no connection${named}. ${MCP_PATH}/<connection> serves one connection (its name as the dashboard shows it); ${MCP_PATH} serves them all.`);
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", id: null, error: { code, message } }, { status });
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  if (Object.keys(headers).length === 0) return response;
  const copy = new Response(response.body, response);
  for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
  return copy;
}
