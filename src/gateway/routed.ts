import { InsufficientScopeError } from "@modelcontextprotocol/client";
import { ProtocolError, ProtocolErrorCode, type RequestOptions } from "@modelcontextprotocol/server";
import { credentialId, type Principal } from "../accounts/principal.ts";
import type { Outcome } from "../accesslog/recorder.ts";
import { loadCredential } from "../connections/credentials.ts";
import { memberCredentialStatus } from "../connections/member-credentials.ts";
import { Redactor, redactorFor } from "../connections/redact.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import { describeUpstreamError, isRetryableCall, isSessionRefusal, SessionLost, type UpstreamFailure } from "../upstream/client.ts";
import { recordUpstreamFailure, recordUpstreamSuccess, unavailableReason } from "../upstream/health.ts";
import type { SlotRefusal } from "../upstream/in-flight.ts";
import { movingDeadline, type MovingDeadline } from "../upstream/moving-deadline.ts";
import type { PooledClient } from "../upstream/pool.ts";
import type { CallTiming } from "../upstream/call-signals.ts";
import { withRetries } from "../upstream/retry.ts";
import type { CallDeps } from "./results.ts";
import { timeoutSentence } from "./timeout-sentence.ts";

/** Why an attempt's signal aborts once its request is over: one reason for all, nothing to build per call. */
const REQUEST_ENDED = new Error("the request ended");

export const SHUTTING_DOWN = "The gateway is shutting down, so this call was cancelled. Call again in a moment.";

/**
 * One request to one connection's upstream — a tools/call, a prompt get, a resource read, a
 * subscribe, a completion — sent the one way: the member's own credential on a per-member
 * connection, fail fast while paused or waiting out a Retry-After, a place in the connection's call
 * slots, the connection's deadline (which the upstream's progress moves), a resend only when it
 * provably never left, the answer through the connection's Redactor, and the connection's health
 * recorded. Failures come back as values; `toProtocolError` turns one into the JSON-RPC error
 * clients get.
 */
export type RoutedFailure = {
  message: string;
  outcome: Outcome;
  /** The gateway's own words, for the access log. */
  summary: string;
  /** The upstream's own JSON-RPC error (code, redacted message and data), passed through as it is. */
  upstream?: { code: number; message: string; data?: unknown };
};
/** `credentialUserId`: the member whose own credential the request used (per-member connections). */
export type Routed<T> = { ok: true; value: T; credentialUserId: string | null } | ({ ok: false; credentialUserId: string | null } & RoutedFailure);

/**
 * What the work is given: the options for its one upstream request (the call's signal, the SDK's
 * backstop timeout, the headers that tag it for the answer watch and the call's abort), and the
 * deadline, which the work moves when the upstream reports progress; whose credential it carries.
 */
export type RoutedSend = { options: RequestOptions & { signal: AbortSignal; timeout: number; headers: Record<string, string> }; deadline: MovingDeadline; credentialUserId: string | null };
export type RoutedWork<T> = (pooled: PooledClient, send: RoutedSend) => Promise<T>;

export type RoutedOptions = {
  /** The client's cancel. */
  signal?: AbortSignal;
  /** What the request names (a tool, a prompt), for the retry's debug line. */
  label?: string;
  /** The call's tally of upstream time (metrics), handed to the outbound fetch with the call's tag. */
  timing?: CallTiming;
};

export async function sendRouted<T>(deps: CallDeps, principal: Principal, connection: ConnectionMeta, work: RoutedWork<T>, ctx: RoutedOptions = {}): Promise<Routed<T>> {
  const refusal = await refusalBeforeSending(deps, principal, connection);
  // A member who has not connected their account used no credential of theirs.
  const credentialUserId = connection.sharing === "per_member" && !refusal?.noMemberCredential ? principal.userId : null;
  const fail = (message: string, outcome: Outcome, summary: string): Routed<T> => ({ ok: false, credentialUserId, message, outcome, summary });
  if (refusal) return fail(refusal.message, refusal.outcome, refusal.summary);
  const slot = await deps.pool.calls.acquire(connection.id, { signal: ctx.signal });
  if ("refused" in slot) return { ok: false, credentialUserId, ...refusedSlot(deps, connection.name, slot) };
  const timeoutMs = connection.callTimeoutMs ?? deps.config.callTimeoutMs;
  // The deadline's signal is the call's: it also ends with the slot (a shutdown) and the client's cancel.
  const deadline = movingDeadline(timeoutMs, deps.config.callMaxTotalMs, Date.now, [slot.signal, ctx.signal]);
  // Retries happen only before anything was sent, so before any progress could move the deadline.
  const deadlineAt = Date.now() + timeoutMs;
  const signal = deadline.signal;
  let redactor: Redactor | null = null;
  let sent = false;
  try {
    const value = await withRetries(
      () =>
        deps.pool.use(connection, { signal, userId: credentialUserId }, async (pooled) => {
          redactor = pooled.redactor;
          sent = true;
          // One signal for this attempt: the call's (deadline, shutdown, the client's cancel), a cut-off
          // answer, and the request ending. However the request ends, its HTTP request to the upstream
          // ends with it: the SDK alone would leave a 2025 one open. The SDK stops listening to it
          // when its request settles, before the "ended" abort below.
          const attempt = new AbortController();
          const onCall = (): void => attempt.abort(signal.reason);
          if (signal.aborted) onCall();
          else signal.addEventListener("abort", onCall, { once: true });
          const watch = pooled.answers.watch((error) => attempt.abort(error));
          const tag = deps.pool.callSignals.register(attempt.signal, ctx.timing);
          // The SDK's own timeout only backs the moving deadline up, a moment after it.
          const timeout = deadline.totalRemainingMs() + 1000;
          try {
            return await work(pooled, { options: { signal: attempt.signal, timeout, headers: { ...watch.headers, ...tag.headers } }, deadline, credentialUserId });
          } catch (error) {
            // An upstream that restarted refuses our old session before running anything: send again on a new one.
            throw isSessionRefusal(error, pooled.client) ? new SessionLost() : error;
          } finally {
            watch.stop();
            signal.removeEventListener("abort", onCall);
            attempt.abort(REQUEST_ENDED);
            tag.stop();
          }
        }),
      {
        deadlineAt,
        signal,
        // The handshake retries itself inside the pool; here only the request itself is at stake.
        retryable: (error) => sent && isRetryableCall(describeUpstreamError(error)),
        onRetry: (error, retry, delayMs) => {
          sent = false;
          const reason = describeUpstreamError(error, redactor ?? undefined).message;
          deps.log.debug("upstream call retried", { connection: connection.name, tool: ctx.label, retry, delayMs: Math.round(delayMs), error: redactor?.redactText(reason) ?? reason });
        },
      },
    );
    deps.pool.health.record(connection.id, true, Date.now());
    await recordUpstreamSuccess(deps, connection);
    // Whatever the upstream answered, none of the credential it was sent goes back.
    return { ok: true, value: (redactor as Redactor | null)?.redactValue(value) ?? value, credentialUserId };
  } catch (error) {
    if (ctx.signal?.aborted) return fail("The call was cancelled.", "upstream_error", "cancelled by the client");
    if (slot.signal.aborted) return fail(SHUTTING_DOWN, "upstream_error", "cancelled: gateway shutting down");
    // No client was made (the handshake failed): the redaction set comes from the stored credential.
    const redact = (redactor as Redactor | null) ?? (await unsealRedactor(deps, connection, credentialUserId));
    const failure = describeUpstreamError(error, redact);
    const reason = redact.redactText(failure.message);
    const summary = summarizeFailure(failure);
    // The upstream's own JSON-RPC error (an unknown prompt, a tool's protocol error): the server is
    // healthy, and the client gets that error as the upstream sent it, redacted like a result.
    if (sent && isUpstreamRpcError(error)) {
      deps.pool.health.record(connection.id, true, Date.now());
      const upstream = { code: error.code, message: redact.redactText(error.message), ...(error.data !== undefined ? { data: redact.redactValue(error.data) } : {}) };
      return { ok: false, credentialUserId, message: reason, outcome: "tool_error", summary: "the upstream answered with a JSON-RPC error", upstream };
    }
    // OAuth step-up: the next Re-authorize asks for the scope this request needs.
    if (error instanceof InsufficientScopeError) await deps.oauth.noteStepUp({ ...connection, userId: credentialUserId }, error.requiredScope);
    // A tool's own error, or one answer too large, says nothing about the server's health; nor does
    // one member's refused credential on a per-member connection.
    const toolLevel = sent && (failure.kind === "protocol" || failure.kind === "too_large");
    const memberAuth = credentialUserId !== null && failure.kind === "auth";
    const notTried = failure.notSent && (failure.kind === "busy" || failure.retryAfterUntil !== undefined);
    if (toolLevel) deps.pool.health.record(connection.id, true, Date.now());
    else if (!memberAuth && !notTried) {
      const now = Date.now();
      await recordUpstreamFailure(deps, connection, failure, reason, { now, recent: deps.pool.health.record(connection.id, false, now) });
    }
    const name = connection.name;
    if (failure.retryAfterUntil !== undefined && failure.notSent) return fail(askedToWait(name, failure.retryAfterUntil, failure.httpStatus ?? 429), "upstream_error", summary);
    if (memberAuth && connection.authKind === "id-jag") return fail(`${name} could not get a token for you through your identity provider: ${reason}.`, "upstream_error", summary);
    if (memberAuth) return fail(`${name} refused your own credential: ${reason}. Connect your account again in the gateway dashboard.`, "upstream_error", summary);
    if (failure.kind === "auth") return fail(`${name} needs re-authorization in the gateway dashboard: ${reason}.`, "upstream_error", summary);
    if (failure.kind === "timeout") return fail(timeoutSentence(name, deadline, timeoutMs, deps.config.callMaxTotalMs), "upstream_error", summary);
    return fail(`${name} failed: ${reason}.`, "upstream_error", summary);
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

/**
 * A JSON-RPC error the upstream answered with. Step-up (InsufficientScopeError) is an HTTP 403
 * the SDK reports in its own way, and stays a sentence with the way to grant the scope.
 */
function isUpstreamRpcError(error: unknown): error is ProtocolError {
  return error instanceof ProtocolError && !(error instanceof InsufficientScopeError) && typeof error.code === "number";
}

/** Why a request to this connection is refused before anything is sent, in words and for the access log. */
export type Refusal = { message: string; outcome: Outcome; summary: string; noMemberCredential?: true };

/**
 * The checks every routed request passes before it is sent: the member's own credential on a
 * per-member connection, Paused and Needs re-auth, and the upstream's Retry-After. Null when the
 * request may go.
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

export function askedToWait(name: string, until: number, status: number): string {
  return `${name} asked the gateway to wait until ${new Date(until).toISOString()} (HTTP ${status}, Retry-After); this call was not sent. Try again after that time.`;
}

/** A request that got no place: the queue says which bound it met. */
function refusedSlot(deps: CallDeps, name: string, refusal: SlotRefusal): RoutedFailure {
  const { inFlight, queued, waitMs } = deps.pool.calls.limits;
  const running = `${name} already has ${inFlight} ${inFlight === 1 ? "call" : "calls"} in flight`;
  switch (refusal.refused) {
    case "stopping":
      return { message: SHUTTING_DOWN, outcome: "upstream_error", summary: "gateway shutting down" };
    case "cancelled":
      return { message: "The call was cancelled.", outcome: "upstream_error", summary: "cancelled by the client while queued" };
    case "queue_full":
      return { message: `${running} and ${queued} waiting in its queue, the most it holds; this one was not sent. Try again when fewer calls are running.`, outcome: "upstream_error", summary: "the connection's queue was full" };
    case "queue_timeout":
      return {
        message: `${running} and this one waited ${Number((waitMs / 1000).toFixed(1))} s in its queue, the longest a call may wait; it was not sent. Try again when fewer calls are running.`,
        outcome: "upstream_error",
        summary: "waited too long in the connection's queue",
      };
  }
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
