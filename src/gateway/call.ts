import { ProtocolError, ProtocolErrorCode, type CallToolResult } from "@modelcontextprotocol/server";
import { errorResult, type CallContext, type CallDeps, type Progress } from "./results.ts";
import { credentialId, type Principal } from "../accounts/principal.ts";
import type { Outcome } from "../accesslog/recorder.ts";
import { NATIVE_PREFIX, SEPARATOR } from "../connections/names.ts";
import { heldSentence } from "../connections/held.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import type { PooledClient } from "../upstream/pool.ts";
import type { RoutedTool } from "./tool-index.ts";
import { callNativeTool } from "./native-tools.ts";
import { sendTaskCall } from "./tasks.ts";
import { sendRouted, SHUTTING_DOWN, toProtocolError, type RoutedSend } from "./routed.ts";
import { traceMeta } from "../observe/request-context.ts";
import { renamedSentence } from "../connections/tool-overrides.ts";
import { limitOf, notInProfile, toolCallAllowed } from "./profile-limit.ts";
import { callDirect, directRouteOf, SendThroughClient } from "../upstream/direct-call.ts";


/** `rpcError`: the upstream's own JSON-RPC error, which reaches the client as that error. */
type Answer = { result: CallToolResult; outcome: Outcome; errorSummary: string | null; rpcError?: ProtocolError };

/**
 * Routes `connection__tool` to its upstream with the stored credential, or a `gateway__` name to a
 * native tool, and records the call. Upstream trouble comes back as an `isError` result. Every call
 * holds a slot in `deps.pool.calls` while it runs, so that a shutdown can wait for it.
 */
export async function callTool(deps: CallDeps, principal: Principal, name: string, args: Record<string, unknown> | undefined, ctx: CallContext = {}): Promise<CallToolResult> {
  const started = performance.now();
  const target: Target = { connectionName: null, tool: name, credentialUserId: null };
  let answer: Answer = failed("", "upstream_error", "the gateway failed to route the call");
  try {
    answer = await routeCall(deps, principal, name, args, ctx, target);
    if (answer.rpcError) throw answer.rpcError;
    return answer.result;
  } catch (error) {
    if (error instanceof UnknownTool) {
      answer = failed("", "denied", error.alias ? "called by the name its alias replaced" : "unknown tool");
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, error.alias ? renamedSentence(name, error.alias) : `Unknown tool: ${name}. Call gateway__search_tools to find tools by name or purpose.`);
    }
    throw error;
  } finally {
    deps.accessLog.record({
      at: Date.now(),
      workspaceId: principal.workspaceId,
      userId: principal.userId,
      // The access log keeps one column for either id; its reader tells them apart by joining both.
      apiKeyId: credentialId(principal.credential),
      connectionName: target.connectionName,
      tool: target.tool,
      outcome: answer.outcome,
      latencyMs: Math.round(performance.now() - started),
      errorSummary: answer.errorSummary,
      credentialUserId: target.credentialUserId,
    }, ctx.timing);
  }
}

/** `credentialUserId`: the member whose own credential the call used (per-member connections). */
type Target = { connectionName: string | null; tool: string; credentialUserId: string | null };

/** `alias`: the name an admin gave the tool that `name` used to be. */
class UnknownTool extends Error {
  constructor(readonly alias?: string) {
    super("unknown tool");
  }
}

async function routeCall(deps: CallDeps, principal: Principal, name: string, args: Record<string, unknown> | undefined, ctx: CallContext, target: Target): Promise<Answer> {
  const index = await deps.toolIndex.get(principal.workspaceId);
  // Every way in (tools/call, gateway__call_tool, a task) passes here: a profile-limited request calls only its profile.
  const limit = limitOf(index, principal);
  if (limit && !toolCallAllowed(index, limit, name)) {
    const refused = index.routes.get(name);
    if (refused) {
      target.connectionName = refused.connectionName;
      target.tool = refused.definition.name;
    }
    return failed(notInProfile(limit, `The tool ${name.slice(0, 200)}`, "tools/list (or gateway__search_tools)"), "denied", "not in the profile");
  }
  if (name.startsWith(NATIVE_PREFIX + SEPARATOR)) {
    target.connectionName = NATIVE_PREFIX;
    target.tool = name.slice(NATIVE_PREFIX.length + SEPARATOR.length);
    const slot = await deps.pool.calls.acquire(null);
    if ("refused" in slot) return failed(SHUTTING_DOWN, "upstream_error", "gateway shutting down");
    try {
      return answered(await callNativeTool(deps, principal, target.tool, args ?? {}, (name, inner) => callTool(deps, principal, name, inner, ctx)));
    } finally {
      slot.end();
    }
  }
  const route = index.routes.get(name);
  const connection = route ? index.connections.get(route.connectionId) : undefined;
  if (!route || !connection) {
    // A call by the name an alias replaced is logged against the tool it meant.
    const alias = index.aliasedFrom.get(name);
    const meant = alias === undefined ? undefined : index.routes.get(alias);
    if (meant) Object.assign(target, { connectionName: meant.connectionName, tool: meant.definition.name });
    throw new UnknownTool(alias);
  }
  target.connectionName = connection.name;
  target.tool = route.definition.name;
  if (!route.enabled) return failed(`${name} is turned off in the gateway. A workspace admin can turn it on in the dashboard.`, "denied", "tool turned off");
  // Changed upstream since an admin approved it: nothing of the new definition runs before review.
  if (route.held) {
    const sentence = heldSentence(name, connection.name);
    return failed(sentence, "denied", sentence);
  }
  const routed = await sendRouted(deps, principal, connection, (pooled, send) => sendCall(deps, pooled, send, connection, route, args, ctx), { signal: ctx.signal, label: route.definition.name, timing: ctx.timing });
  target.credentialUserId = routed.credentialUserId;
  if (routed.ok) return answered(routed.value);
  const answer = failed(routed.message, routed.outcome, routed.summary);
  return routed.upstream ? { ...answer, rpcError: toProtocolError(routed) } : answer;
}

/**
 * The tools/call itself, on the upstream the routed path chose (routed.ts). Progress is always
 * asked for: it is what moves the deadline, whether or not the client listens.
 */
async function sendCall(deps: CallDeps, pooled: PooledClient, send: RoutedSend, connection: ConnectionMeta, route: RoutedTool, args: Record<string, unknown> | undefined, ctx: CallContext): Promise<CallToolResult> {
  const relay = ctx.relay;
  // The client's request _meta, and what the relay adds (answers, requestState, the caller's log level, in _meta too).
  const { _meta: relayMeta, ...relayParams } = (relay?.params ?? {}) as { _meta?: Record<string, unknown> };
  // The gateway's own trace context (tracing on) names this hop's span as the upstream's parent.
  const meta = { ...ctx.meta, ...relayMeta, ...(traceMeta() as { _meta?: Record<string, unknown> })._meta };
  const params = { name: route.definition.name, arguments: args ?? {}, ...relayParams, ...(Object.keys(meta).length > 0 ? { _meta: meta } : {}) };
  if (ctx.task) {
    return ctx.task.created(await sendTaskCall(pooled, { ...params, task: ctx.task.params }, send.options), { connection, memberId: send.credentialUserId });
  }
  const onprogress = (p: Progress): void => {
    send.deadline.move();
    ctx.onProgress?.(pooled.redactor.redactValue(p));
  };
  const viaClient = () =>
    pooled.client.callTool(params, {
      ...send.options,
      // A 2026-07-28 upstream's input_required result goes back to the caller (held-calls.ts).
      ...(relay ? { allowInputRequired: true } : {}),
      toolDefinition: route.callDefinition,
      onprogress,
    });
  // A plain call to a 2026-07-28 upstream skips the SDK client (direct-call.ts), unless the upstream
  // turns it back before running it (a redirect, an auth challenge), which the SDK client follows.
  const upstream = { connection: connection.name, redactor: pooled.redactor };
  const direct = relay && deps.config.fastRelay ? directRouteOf(pooled.client, route.callDefinition) : undefined;
  if (relay && direct) {
    // Its log messages are read here and handed to the call's channel: no async context needed.
    const channel = relay.channel(upstream);
    try {
      return (await callDirect(pooled.client, direct, params, { signal: send.options.signal, headers: send.options.headers, onprogress, onlog: (p) => channel.log(p), toolDefinition: route.callDefinition })) as CallToolResult;
    } catch (error) {
      if (!(error instanceof SendThroughClient)) throw error;
    }
  }
  return (await (relay ? relay.run(upstream, viaClient) : viaClient())) as CallToolResult;
}

/** The access log keeps the gateway's own words about a call, never text the upstream wrote. */
function answered(result: CallToolResult): Answer {
  return result.isError ? { result, outcome: "tool_error", errorSummary: "the tool reported an error" } : { result, outcome: "ok", errorSummary: null };
}

/** `errorSummary` is written by the gateway: it goes to the access log as it is. */
function failed(text: string, outcome: Outcome, errorSummary: string): Answer {
  return { result: errorResult(text), outcome, errorSummary };
}
