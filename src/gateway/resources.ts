import { ProtocolError, ProtocolErrorCode, type ReadResourceResult, type Server } from "@modelcontextprotocol/server";
import type { Outcome } from "../accesslog/recorder.ts";
import type { Principal } from "../accounts/principal.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import { readRefusal } from "./item-index.ts";
import { heldSentence } from "../connections/held.ts";
import { unwrapResourceUri, wrapResourceUri } from "./resource-uris.ts";
import type { UpdateListener, WatchTarget } from "./resource-watch.ts";
import type { CallDeps } from "./results.ts";
import { recordItemAccess, sendRouted, toProtocolError } from "./routed.ts";
import { listInView, WORKSPACE_VIEW, type GatewayView, type ItemOrigin } from "./view.ts";

type Resolved = { connection: ConnectionMeta; uri: string };
/** `summary`: what the access log keeps of a refusal. */
type Resolution = ({ ok: true } & Resolved) | { ok: false; refusal: string; summary: string };

/**
 * resources/list and resources/templates/list from memory; resources/read and
 * resources/subscribe / unsubscribe routed by the gateway URI (resource-uris.ts) to the
 * connection's upstream under its own URI. A session's subscriptions end with it.
 */
export function registerResourceHandlers(server: Server, deps: CallDeps, principal: Principal, view: GatewayView = WORKSPACE_VIEW): void {
  server.setRequestHandler("resources/list", async () => ({ resources: listInView(view, (await deps.itemIndex.get(principal.workspaceId)).resources, UNWRAP, originOfUri, "uri") }));
  server.setRequestHandler("resources/templates/list", async () => ({
    resourceTemplates: listInView(view, (await deps.itemIndex.get(principal.workspaceId)).resourceTemplates, UNWRAP, originOfUri, "uriTemplate"),
  }));

  server.setRequestHandler("resources/read", async (request, ctx): Promise<ReadResourceResult> => {
    const started = performance.now();
    const resolved = await resolve(deps, principal, gatewayUri(view, request.params.uri));
    const record = (outcome: Outcome, errorSummary: string | null, credentialUserId: string | null = null): void =>
      recordItemAccess(deps, principal, {
        kind: "resource",
        connectionName: resolved.ok ? resolved.connection.name : null,
        name: resolved.ok ? resolved.uri : request.params.uri,
        outcome,
        errorSummary,
        credentialUserId,
        started,
      });
    if (!resolved.ok) {
      record("denied", resolved.summary);
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, resolved.refusal);
    }
    const { connection, uri } = resolved;
    const answer = await sendRouted(
      deps,
      principal,
      connection,
      (pooled, options) => pooled.client.readResource({ ...request.params, uri }, { ...options, cacheMode: "bypass" }),
      { signal: ctx.mcpReq.signal },
    );
    record(answer.ok ? "ok" : answer.outcome, answer.ok ? null : answer.summary, answer.credentialUserId);
    if (!answer.ok) throw toProtocolError(answer);
    // A connection's own URL shows the upstream's URIs as they are.
    if (view.kind === "connection") return answer.value;
    return { ...answer.value, contents: answer.value.contents.map((c) => ({ ...c, uri: wrapResourceUri(connection.name, c.uri) })) };
  });

  // What this server (one 2025 session) listens to, so that its end ends them.
  const mine = new Map<string, WatchTarget>();
  const listener: UpdateListener = (uri) => {
    const shown = uriInView(view, uri);
    if (shown !== null) void server.sendResourceUpdated({ uri: shown }).catch(() => undefined);
  };
  const previousOnClose = server.onclose;
  server.onclose = () => {
    previousOnClose?.();
    for (const target of mine.values()) deps.resourceWatch.remove(target, listener);
    mine.clear();
  };

  server.setRequestHandler("resources/subscribe", async (request, ctx) => {
    const resolved = await resolve(deps, principal, gatewayUri(view, request.params.uri));
    if (!resolved.ok) throw new ProtocolError(ProtocolErrorCode.InvalidParams, resolved.refusal);
    // Without a session there is no stream to tell: nothing to hold upstream.
    if (!ctx.sessionId || mine.has(request.params.uri)) return {};
    const target = await watchResource(deps, principal, resolved, listener);
    mine.set(request.params.uri, target);
    return {};
  });
  server.setRequestHandler("resources/unsubscribe", async (request) => {
    const target = mine.get(request.params.uri);
    if (target) {
      mine.delete(request.params.uri);
      deps.resourceWatch.remove(target, listener);
    }
    return {};
  });
}

// Resources are routed by their gateway URI, which says its connection and the upstream's URI.
const UNWRAP = { get: unwrapResourceUri };
const originOfUri = (u: { connectionName: string; uri: string }): ItemOrigin => ({ connectionName: u.connectionName, originalName: u.uri });

/** The gateway URI of what `view` calls `uri`: a connection's own URL names its upstream's URIs. */
function gatewayUri(view: GatewayView, uri: string): string {
  return view.kind === "connection" ? wrapResourceUri(view.connectionName, uri) : uri;
}

/** A gateway URI as `view` shows it, or null when the view does not show its connection. */
export function uriInView(view: GatewayView, uri: string): string | null {
  if (view.kind === "workspace") return uri;
  const unwrapped = unwrapResourceUri(uri);
  return unwrapped?.connectionName === view.connectionName ? unwrapped.uri : null;
}

/** The connection and upstream URI of a gateway URI, or why there is none (unknown, or turned off). */
async function resolve(deps: CallDeps, principal: Principal, uri: string): Promise<Resolution> {
  const unwrapped = unwrapResourceUri(uri);
  const own = unwrapped && (await deps.itemIndex.get(principal.workspaceId)).byConnection.get(unwrapped.connectionName);
  if (!unwrapped || !own) return { ok: false, refusal: `Resource not found: ${uri}. Resource URIs through the gateway look like mcpgw://<connection>/<the server's own URI>; resources/list names them.`, summary: "unknown or turned-off resource" };
  const refused = readRefusal(own, unwrapped.uri);
  if (refused === "off") return { ok: false, refusal: `${uri} is turned off in the gateway. A workspace admin can turn it on in the dashboard.`, summary: "unknown or turned-off resource" };
  if (refused === "held") {
    const sentence = heldSentence(uri, own.connection.name);
    return { ok: false, refusal: sentence, summary: sentence };
  }
  return { ok: true, connection: own.connection, uri: unwrapped.uri };
}

/**
 * Adds `listener` to the resource's watchers; the first one subscribes upstream (resources/subscribe
 * on a 2025 upstream, a subscriptions/listen stream naming the resource on a 2026-07-28 one), and
 * the last one gone unsubscribes.
 */
export async function watchResource(deps: CallDeps, principal: Principal, resolved: Resolved, listener: UpdateListener): Promise<WatchTarget> {
  const { connection, uri } = resolved;
  const userId = connection.sharing === "per_member" ? principal.userId : null;
  const target: WatchTarget = { connectionId: connection.id, connectionName: connection.name, userId, uri };
  if (!deps.resourceWatch.add(target, listener)) return target;
  const answer = await sendRouted(deps, principal, connection, async (pooled, options): Promise<(() => void) | "unsupported"> => {
    const client = pooled.client;
    if (!client.getServerCapabilities()?.resources?.subscribe) return "unsupported";
    if (client.getNegotiatedProtocolVersion() === "2026-07-28") {
      // The listen stream outlives this request: it is not given the request's signal.
      const subscription = await client.listen({ resourceSubscriptions: [uri] }, { timeout: options.timeout });
      return () => void subscription.close().catch(() => undefined);
    }
    await client.subscribeResource({ uri }, options);
    return () => void sendRouted(deps, principal, connection, (p, o) => p.client.unsubscribeResource({ uri }, o)).catch(() => undefined);
  });
  if (!answer.ok || answer.value === "unsupported") {
    deps.resourceWatch.remove(target, listener);
    if (!answer.ok) throw toProtocolError(answer);
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `${connection.name} does not offer resource subscriptions.`);
  }
  const stop = answer.value;
  // Everyone may have left while the upstream was asked.
  if (!deps.resourceWatch.attachStop(target, stop)) stop();
  return target;
}

// A listen stream names at most this many resources; more would each hold an upstream subscription.
const MAX_LISTENED_RESOURCES = 100;

/**
 * A 2026-07-28 `subscriptions/listen` stream that names resources (`notifications.resourceSubscriptions`):
 * each is watched upstream while the stream is open, and `listener` (the workspace's, which
 * publishes to the SDK's listen router, that filters by URI) hears their changes. Returns what
 * ends the watches when the stream closes. A resource that cannot be watched is left out.
 */
export async function watchListenedResources(deps: CallDeps, principal: Principal, body: unknown, listener: UpdateListener, view: GatewayView = WORKSPACE_VIEW): Promise<() => void> {
  const named = (body as { params?: { notifications?: { resourceSubscriptions?: unknown } } } | null)?.params?.notifications?.resourceSubscriptions;
  if (!Array.isArray(named)) return () => undefined;
  const uris = [...new Set(named.filter((u): u is string => typeof u === "string"))].slice(0, MAX_LISTENED_RESOURCES);
  const targets = await Promise.all(
    uris.map(async (uri) => {
      const resolved = await resolve(deps, principal, gatewayUri(view, uri));
      if (!resolved.ok) return null;
      return watchResource(deps, principal, resolved, listener).catch(() => null);
    }),
  );
  return () => {
    for (const target of targets) if (target) deps.resourceWatch.remove(target, listener);
  };
}
