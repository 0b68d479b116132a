import { ProtocolError, ProtocolErrorCode, type RequestOptions } from "@modelcontextprotocol/server";
import { credentialId, type Principal } from "../accounts/principal.ts";
import type { Outcome } from "../accesslog/recorder.ts";
import type { Redactor } from "../connections/redact.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import { describeUpstreamError, isRetryableCall, isSessionRefusal, SessionLost } from "../upstream/client.ts";
import { recordUpstreamFailure, recordUpstreamSuccess } from "../upstream/health.ts";
import type { PooledClient } from "../upstream/pool.ts";
import { deadlineSignal, withRetries } from "../upstream/retry.ts";
import { refusalBeforeSending, SHUTTING_DOWN, summarizeFailure, unsealRedactor } from "./call.ts";
import type { CallDeps } from "./results.ts";

/**
 * A request other than tools/call (prompts/get, resources/read, subscribe, completion/complete)
 * sent to one connection's upstream the way callTool sends a call: the member's own credential on
 * a per-member connection, fail fast while paused or waiting out a Retry-After, a place in the
 * connection's call slots, the connection's deadline, a resend only when it provably never left,
 * the answer through the connection's Redactor, and the connection's health recorded.
 * Failures come back as values; `toProtocolError` turns one into the JSON-RPC error clients get.
 */
export type RoutedFailure = {
  message: string;
  outcome: Outcome;
  /** The gateway's own words, for the access log. */
  summary: string;
  /** The upstream's own JSON-RPC error (code, redacted message and data), passed through as it is. */
  upstream?: { code: number; message: string; data?: unknown };
};
export type Routed<T> = { ok: true; value: T; credentialUserId: string | null } | ({ ok: false; credentialUserId: string | null } & RoutedFailure);

type Work<T> = (pooled: PooledClient, options: RequestOptions) => Promise<T>;

export async function sendRouted<T>(deps: CallDeps, principal: Principal, connection: ConnectionMeta, work: Work<T>, ctx: { signal?: AbortSignal } = {}): Promise<Routed<T>> {
  const perMember = connection.sharing === "per_member";
  const credentialUserId = perMember ? principal.userId : null;
  const fail = (message: string, outcome: Outcome, summary: string): Routed<T> => ({ ok: false, credentialUserId, message, outcome, summary });
  const refusal = await refusalBeforeSending(deps, principal, connection);
  if (refusal) return fail(refusal.message, refusal.outcome, refusal.summary);
  const slot = await deps.pool.calls.acquire(connection.id, { signal: ctx.signal });
  if ("refused" in slot) {
    const summary = slot.refused === "cancelled" ? "cancelled by the client while queued" : slot.refused === "stopping" ? "gateway shutting down" : "the connection's calls were all in use";
    return fail(slot.refused === "stopping" ? SHUTTING_DOWN : `${connection.name} has too many calls running or waiting; this request was not sent. Try again in a moment.`, "upstream_error", summary);
  }
  const timeoutMs = connection.callTimeoutMs ?? deps.config.callTimeoutMs;
  const deadline = deadlineSignal(timeoutMs);
  const signal = AbortSignal.any([deadline.signal, slot.signal, ...(ctx.signal ? [ctx.signal] : [])]);
  let redactor: Redactor | null = null;
  let sent = false;
  try {
    const value = await withRetries(
      () =>
        deps.pool.use(connection, { signal, userId: credentialUserId }, async (pooled) => {
          redactor = pooled.redactor;
          sent = true;
          const cutOff = new AbortController();
          const watch = pooled.answers.watch((error) => cutOff.abort(error));
          const ended = new AbortController();
          const tag = deps.pool.callSignals.register(AbortSignal.any([signal, cutOff.signal, ended.signal]));
          const remaining = Math.max(1, deadline.at - Date.now());
          try {
            return await work(pooled, { signal: AbortSignal.any([signal, cutOff.signal]), timeout: remaining, maxTotalTimeout: remaining, headers: { ...watch.headers, ...tag.headers } });
          } catch (error) {
            throw isSessionRefusal(error, pooled.client) ? new SessionLost() : error;
          } finally {
            watch.stop();
            ended.abort(new Error("the request ended"));
            tag.stop();
          }
        }),
      {
        deadlineAt: deadline.at,
        signal,
        retryable: (error) => sent && isRetryableCall(describeUpstreamError(error)), onRetry: () => {
          sent = false;
        },
      },
    );
    deps.pool.health.record(connection.id, true, Date.now());
    await recordUpstreamSuccess(deps, connection);
    return { ok: true, value: (redactor as Redactor | null)?.redactValue(value) ?? value, credentialUserId };
  } catch (error) {
    if (ctx.signal?.aborted) return fail("The request was cancelled.", "upstream_error", "cancelled by the client");
    if (slot.signal.aborted) return fail(SHUTTING_DOWN, "upstream_error", "cancelled: gateway shutting down");
    const redact = (redactor as Redactor | null) ?? (await unsealRedactor(deps, connection, credentialUserId));
    const failure = describeUpstreamError(error, redact);
    const summary = summarizeFailure(failure);
    // The upstream answered with its own JSON-RPC error (unknown prompt, resource not found): the
    // server is healthy, and the client gets that error as the upstream sent it, redacted.
    if (sent && error instanceof ProtocolError) {
      deps.pool.health.record(connection.id, true, Date.now());
      const upstream = { code: error.code, message: redact.redactText(error.message), ...(error.data !== undefined ? { data: redact.redactValue(error.data) } : {}) };
      return { ok: false, credentialUserId, message: upstream.message, outcome: "tool_error", summary: "the upstream answered with an error", upstream };
    }
    const reason = redact.redactText(failure.message);
    if (sent && failure.kind === "too_large") deps.pool.health.record(connection.id, true, Date.now());
    else if (!(credentialUserId !== null && failure.kind === "auth") && !(failure.notSent && failure.kind === "busy")) {
      const now = Date.now();
      await recordUpstreamFailure(deps, connection, failure, reason, { now, recent: deps.pool.health.record(connection.id, false, now) });
    }
    if (failure.kind === "timeout") return fail(`${connection.name} did not answer within ${Math.round(timeoutMs / 1000)} s; the request was cancelled.`, "upstream_error", summary);
    if (failure.kind === "auth") return fail(`${connection.name} needs re-authorization in the gateway dashboard: ${reason}.`, "upstream_error", summary);
    return fail(`${connection.name} failed: ${reason}.`, "upstream_error", summary);
  } finally {
    deadline.clear();
    slot.end();
  }
}

/** The JSON-RPC error a client gets for a failed routed request. */
export function toProtocolError(failure: RoutedFailure): ProtocolError {
  if (failure.upstream) return new ProtocolError(failure.upstream.code, failure.upstream.message, failure.upstream.data);
  return new ProtocolError(ProtocolErrorCode.InternalError, failure.message);
}

/** Prompt gets and resource reads go to the access log beside tool calls, `kind` telling them apart. */
export function recordItemAccess(
  deps: CallDeps,
  principal: Principal,
  entry: { kind: "prompt" | "resource"; connectionName: string | null; name: string; outcome: Outcome; errorSummary: string | null; credentialUserId: string | null; started: number },
): void {
  deps.accessLog.record({
    at: Date.now(),
    workspaceId: principal.workspaceId,
    userId: principal.userId,
    apiKeyId: credentialId(principal.credential),
    connectionName: entry.connectionName,
    kind: entry.kind,
    tool: entry.name.slice(0, 1000),
    outcome: entry.outcome,
    latencyMs: Math.round(performance.now() - entry.started),
    errorSummary: entry.errorSummary,
    credentialUserId: entry.credentialUserId,
  });
}
