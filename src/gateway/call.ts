import { ProtocolError, ProtocolErrorCode, type CallToolResult } from "@modelcontextprotocol/server";
import { InsufficientScopeError } from "@modelcontextprotocol/client";
import { errorResult, type CallContext, type CallDeps, type Progress } from "./results.ts";
import { credentialId, type Principal } from "../accounts/principal.ts";
import type { Outcome } from "../accesslog/recorder.ts";
import { NATIVE_PREFIX, SEPARATOR } from "../connections/names.ts";
import { heldSentence } from "../connections/held.ts";
import { loadCredential } from "../connections/credentials.ts";
import { Redactor, redactorFor } from "../connections/redact.ts";
import { describeUpstreamError, isRetryableCall, isSessionRefusal, SessionLost, type UpstreamFailure } from "../upstream/client.ts";
import { recordUpstreamFailure, recordUpstreamSuccess, unavailableReason } from "../upstream/health.ts";
import type { CallSlot, SlotRefusal } from "../upstream/in-flight.ts";
import { withRetries } from "../upstream/retry.ts";
import { movingDeadline } from "../upstream/moving-deadline.ts";
import { timeoutSentence } from "./timeout-sentence.ts";
import type { RoutedTool } from "./tool-index.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import { callNativeTool } from "./native-tools.ts";
import { sendTaskCall } from "./tasks.ts";
import { memberCredentialStatus } from "../connections/member-credentials.ts";
import { traceMeta } from "../observe/request-context.ts";


/** `rpcError`: the upstream's own JSON-RPC error, which reaches the client as that error. */
type Answer = { result: CallToolResult; outcome: Outcome; errorSummary: string | null; rpcError?: ProtocolError };


export const SHUTTING_DOWN = "The gateway is shutting down, so this call was cancelled. Call again in a moment.";

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
      answer = failed("", "denied", "unknown tool");
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}. Call gateway__search_tools to find tools by name or purpose.`);
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
    });
  }
}

/** `credentialUserId`: the member whose own credential the call used (per-member connections). */
type Target = { connectionName: string | null; tool: string; credentialUserId: string | null };

class UnknownTool extends Error {}

async function routeCall(deps: CallDeps, principal: Principal, name: string, args: Record<string, unknown> | undefined, ctx: CallContext, target: Target): Promise<Answer> {
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
  const index = await deps.toolIndex.get(principal.workspaceId);
  const route = index.routes.get(name);
  const connection = route ? index.connections.get(route.connectionId) : undefined;
  if (!route || !connection) throw new UnknownTool();
  target.connectionName = connection.name;
  target.tool = route.definition.name;
  if (!route.enabled) return failed(`${name} is turned off in the gateway. A workspace admin can turn it on in the dashboard.`, "denied", "tool turned off");
  // Changed upstream since an admin approved it: nothing of the new definition runs before review.
  if (route.held) return failed(heldSentence(name, connection.name), "denied", heldSentence(name, connection.name));
  const refusal = await refusalBeforeSending(deps, principal, connection);
  // A member who has not connected their account used no credential of theirs.
  if (connection.sharing === "per_member" && !refusal?.noMemberCredential) target.credentialUserId = principal.userId;
  if (refusal) return failed(refusal.message, refusal.outcome, refusal.summary);
  const slot = await deps.pool.calls.acquire(connection.id, { signal: ctx.signal });
  if ("refused" in slot) return refusedSlot(deps, connection.name, slot);
  try {
    return await proxyCall(deps, connection, route, args, ctx, slot, target.credentialUserId);
  } finally {
    slot.end();
  }
}

/** Why a request to this connection is refused before anything is sent, in words and for the access log. */
export type Refusal = { message: string; outcome: Outcome; summary: string; noMemberCredential?: true };

/**
 * The checks every routed request (a tool call, a prompt get, a resource read) passes before it is
 * sent: the member's own credential on a per-member connection, Paused and Needs re-auth, and the
 * upstream's Retry-After. Null when the request may go.
 */
export async function refusalBeforeSending(deps: CallDeps, principal: Principal, connection: ConnectionMeta): Promise<Refusal | null> {
  const perMember = connection.sharing === "per_member";
  if (perMember) {
    const own = await memberCredentialStatus(deps.database, { connectionId: connection.id, workspaceId: principal.workspaceId, userId: principal.userId });
    // Enterprise-managed: the member's token is obtained on this call, through their SSO sign-in.
    if (!own && connection.authKind !== "id-jag") {
      const where = `${deps.config.baseUrl}/connections/${encodeURIComponent(connection.id)}`;
      return { message: `${connection.name} uses each member's own account, and you have not connected yours yet. Connect your account in the gateway dashboard (${where}), then call again.`, outcome: "denied", summary: "member has not connected their account", noMemberCredential: true };
    }
  }
  // Paused and Needs re-auth fail fast, without touching the upstream; Error is tried (see health.ts).
  // On a per-member connection Needs re-auth is about the discovery credential, not this member's.
  const unavailable = perMember && connection.status === "needs_reauth" ? null : unavailableReason(connection);
  // The reason quotes the last error (upstream text, redacted); the access log keeps only the status.
  // A paused connection refused the request itself: its own outcome, so the log does not blame the upstream.
  if (unavailable) {
    return connection.status === "paused"
      ? { message: unavailable, outcome: "paused", summary: "connection paused after repeated failures" }
      : { message: unavailable, outcome: "upstream_error", summary: "connection needs re-authorization" };
  }
  // The upstream asked (429/503 with Retry-After) not to be called yet: say until when, call nothing.
  const waiting = deps.pool.waits.active(connection.id, Date.now());
  if (waiting) return { message: askedToWait(connection.name, waiting.at, waiting.status), outcome: "upstream_error", summary: "the upstream's Retry-After is in force" };
  return null;
}

/**
 * One call upstream, within the connection's deadline (connect included). A call that provably
 * never left (connection refused, DNS) is sent again after a jittered backoff; one that may have
 * reached the upstream never is, whatever the tool's annotations claim.
 */
async function proxyCall(
  deps: CallDeps,
  connection: ConnectionMeta,
  route: RoutedTool,
  args: Record<string, unknown> | undefined,
  ctx: CallContext,
  slot: CallSlot,
  memberId: string | null,
): Promise<Answer> {
  const timeoutMs = connection.callTimeoutMs ?? deps.config.callTimeoutMs;
  const deadline = movingDeadline(timeoutMs, deps.config.callMaxTotalMs);
  // Retries happen only before anything was sent, so before any progress could move the deadline.
  const deadlineAt = Date.now() + timeoutMs;
  const signal = AbortSignal.any([deadline.signal, slot.signal, ...(ctx.signal ? [ctx.signal] : [])]);
  let redactor: Redactor | null = null;
  let sent = false;
  try {
    const result = await withRetries(
      () =>
        deps.pool.use(connection, { signal, userId: memberId }, async (pooled) => {
          redactor = pooled.redactor;
          sent = true;
          const cutOff = new AbortController();
          const watch = pooled.answers.watch((error) => cutOff.abort(error));
          // However the call ends (answer, deadline, the client's cancel, a cut-off answer), its
          // HTTP request to the upstream ends with it: the SDK alone would leave a 2025 one open.
          const ended = new AbortController();
          const tag = deps.pool.callSignals.register(AbortSignal.any([signal, cutOff.signal, ended.signal]));
          // The SDK's own timeout only backs the moving deadline up, a moment after it.
          const backstopMs = deadline.totalRemainingMs() + 1000;
          // The client's request _meta, and what the relay adds (answers, requestState, the caller's log level, in _meta too).
          const { _meta: relayMeta, ...relayParams } = (ctx.relay?.params ?? {}) as { _meta?: Record<string, unknown> };
          // The gateway's own trace context (tracing on) names this hop's span as the upstream's parent.
          const meta = { ...ctx.meta, ...relayMeta, ...(traceMeta() as { _meta?: Record<string, unknown> })._meta };
          const params = { name: route.definition.name, arguments: args ?? {}, ...relayParams, ...(Object.keys(meta).length > 0 ? { _meta: meta } : {}) };
          try {
            if (ctx.task) {
              const options = { signal: AbortSignal.any([signal, cutOff.signal]), timeout: backstopMs, headers: { ...watch.headers, ...tag.headers } };
              return ctx.task.created(await sendTaskCall(pooled, { ...params, task: ctx.task.params }, options), { connection, memberId });
            }
            const send = () => pooled.client.callTool(
              params,
              {
                // A 2026-07-28 upstream's input_required result goes back to the caller (held-calls.ts).
                ...(ctx.relay ? { allowInputRequired: true } : {}),
                signal: AbortSignal.any([signal, cutOff.signal]),
                // The moving deadline ends the call (through `signal`) and knows which of its limits
                // did. Progress is always asked for: it is what moves the deadline, whether or not
                // the client listens.
                timeout: backstopMs,
                headers: { ...watch.headers, ...tag.headers },
                toolDefinition: route.callDefinition,
                onprogress: (p: Progress) => {
                  deadline.move();
                  ctx.onProgress?.(pooled.redactor.redactValue(p));
                },
              },
            );
            return (await (ctx.relay ? ctx.relay.run({ connection: connection.name, redactor: pooled.redactor }, send) : send())) as CallToolResult;
          } catch (error) {
            // An upstream that restarted refuses our old session before running anything: send again on a new one.
            throw isSessionRefusal(error, pooled.client) ? new SessionLost() : error;
          } finally {
            watch.stop();
            ended.abort(new Error("the call ended"));
            tag.stop();
          }
        }),
      {
        deadlineAt,
        signal,
        // The handshake retries itself inside the pool; here only the tools/call is at stake.
        retryable: (error) => sent && isRetryableCall(describeUpstreamError(error)),
        onRetry: (error, retry, delayMs) => {
          sent = false;
          const reason = describeUpstreamError(error, redactor ?? undefined).message;
          deps.log.debug("upstream call retried", { connection: connection.name, tool: route.definition.name, retry, delayMs: Math.round(delayMs), error: redactor?.redactText(reason) ?? reason });
        },
      },
    );
    deps.pool.health.record(connection.id, true, Date.now());
    await recordUpstreamSuccess(deps, connection);
    // Whatever the upstream answered, none of the credential it was sent goes back.
    return answered((redactor as Redactor | null)?.redactValue(result) ?? result);
  } catch (error) {
    if (ctx.signal?.aborted) return failed("The call was cancelled.", "upstream_error", "cancelled by the client");
    if (slot.signal.aborted) return failed(SHUTTING_DOWN, "upstream_error", "cancelled: gateway shutting down");
    // No client was made (the handshake failed): the redaction set comes from the stored credential.
    const redact = (redactor as Redactor | null) ?? (await unsealRedactor(deps, connection, memberId));
    const failure = describeUpstreamError(error, redact);
    const reason = redact.redactText(failure.message);
    const summary = summarizeFailure(failure);
    // The upstream's own JSON-RPC error to this call goes back as that error, redacted like a result.
    if (sent && isUpstreamRpcError(error)) {
      deps.pool.health.record(connection.id, true, Date.now());
      const rpcError = new ProtocolError(error.code, redact.redactText(error.message), error.data === undefined ? undefined : redact.redactValue(error.data));
      return { ...failed(reason, "tool_error", "the upstream answered with a JSON-RPC error"), rpcError };
    }
    // OAuth step-up: the next Re-authorize asks for the scope this tool needs.
    if (error instanceof InsufficientScopeError) await deps.oauth.noteStepUp({ ...connection, userId: memberId }, error.requiredScope);
    // A tool's own error, or one answer too large, says nothing about the server's health; nor does
    // one member's refused credential on a per-member connection.
    const toolLevel = sent && (failure.kind === "protocol" || failure.kind === "too_large");
    const memberAuth = memberId !== null && failure.kind === "auth";
    const notTried = failure.notSent && (failure.kind === "busy" || failure.retryAfterUntil !== undefined);
    if (toolLevel) deps.pool.health.record(connection.id, true, Date.now());
    else if (!memberAuth && !notTried) {
      const now = Date.now();
      await recordUpstreamFailure(deps, connection, failure, reason, { now, recent: deps.pool.health.record(connection.id, false, now) });
    }
    const name = connection.name;
    if (failure.retryAfterUntil !== undefined && failure.notSent) return failed(askedToWait(name, failure.retryAfterUntil, failure.httpStatus ?? 429), "upstream_error", summary);
    if (memberAuth && connection.authKind === "id-jag") return failed(`${name} could not get a token for you through your identity provider: ${reason}.`, "upstream_error", summary);
    if (memberAuth) return failed(`${name} refused your own credential: ${reason}. Connect your account again in the gateway dashboard.`, "upstream_error", summary);
    if (failure.kind === "auth") return failed(`${name} needs re-authorization in the gateway dashboard: ${reason}.`, "upstream_error", summary);
    if (failure.kind === "timeout") return failed(timeoutSentence(name, deadline, timeoutMs, deps.config.callMaxTotalMs), "upstream_error", summary);
    return failed(`${name} failed: ${reason}.`, "upstream_error", summary);
  } finally {
    deadline.clear();
  }
}

/**
 * A JSON-RPC error the upstream answered with. Step-up (InsufficientScopeError) is an HTTP 403
 * the SDK reports in its own way, and stays a sentence with the way to grant the scope.
 */
function isUpstreamRpcError(error: unknown): error is ProtocolError {
  return error instanceof ProtocolError && !(error instanceof InsufficientScopeError) && typeof error.code === "number";
}

export function askedToWait(name: string, until: number, status: number): string {
  return `${name} asked the gateway to wait until ${new Date(until).toISOString()} (HTTP ${status}, Retry-After); this call was not sent. Try again after that time.`;
}

/** A call that got no place: the queue says which bound it met. */
function refusedSlot(deps: CallDeps, name: string, refusal: SlotRefusal): Answer {
  const { inFlight, queued, waitMs } = deps.pool.calls.limits;
  const running = `${name} already has ${inFlight} ${inFlight === 1 ? "call" : "calls"} in flight`;
  switch (refusal.refused) {
    case "stopping":
      return failed(SHUTTING_DOWN, "upstream_error", "gateway shutting down");
    case "cancelled":
      return failed("The call was cancelled.", "upstream_error", "cancelled by the client while queued");
    case "queue_full":
      return failed(`${running} and ${queued} waiting in its queue, the most it holds; this one was not sent. Try again when fewer calls are running.`, "upstream_error", "the connection's queue was full");
    case "queue_timeout":
      return failed(`${running} and this one waited ${Number((waitMs / 1000).toFixed(1))} s in its queue, the longest a call may wait; it was not sent. Try again when fewer calls are running.`, "upstream_error", "waited too long in the connection's queue");
  }
}

/** The access log keeps the gateway's own words about a call, never text the upstream wrote. */
function answered(result: CallToolResult): Answer {
  return result.isError ? { result, outcome: "tool_error", errorSummary: "the tool reported an error" } : { result, outcome: "ok", errorSummary: null };
}

/** `errorSummary` is written by the gateway: it goes to the access log as it is. */
function failed(text: string, outcome: Outcome, errorSummary: string): Answer {
  return { result: errorResult(text), outcome, errorSummary };
}

/** A failure in the gateway's words, from its kind alone: the message may quote the upstream. */
export function summarizeFailure(failure: UpstreamFailure): string {
  const status = failure.httpStatus === undefined ? "" : ` (HTTP ${failure.httpStatus})`;
  switch (failure.kind) {
    case "auth":
      return `the upstream refused the credential, or it needs re-authorization${status}`;
    case "refused_url":
      return "the gateway's URL policy refused the upstream address";
    case "timeout":
      return "the upstream did not answer in time";
    case "not_mcp":
      return `the upstream's answer is not MCP${status}`;
    case "too_large":
      return "the upstream's answer was too large";
    case "protocol":
      return "the upstream answered with an error";
    case "busy":
      return "the gateway's bound on open requests to the upstream was reached";
    case "unreachable":
      return failure.httpStatus === undefined ? (failure.notSent ? "the upstream could not be reached" : "the connection to the upstream failed") : `the upstream answered HTTP ${failure.httpStatus}`;
  }
}

/** A credential that cannot be unsealed was never sent, so there is nothing of it to redact. */
export async function unsealRedactor(deps: CallDeps, connection: ConnectionMeta, memberId: string | null): Promise<Redactor> {
  try {
    return redactorFor(await loadCredential(deps.database, deps.keyring, { connectionId: connection.id, workspaceId: connection.workspaceId, userId: memberId }));
  } catch {
    return new Redactor();
  }
}
