import {
  inputRequired,
  isInputRequiredResult,
  ProtocolError,
  ProtocolErrorCode,
  type CallToolRequest,
  type CallToolResult,
  type ClientCapabilities,
  type InputRequiredResult,
  type InputRequests,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { credentialId, type Principal } from "../accounts/principal.ts";
import type { CallTiming } from "../upstream/call-signals.ts";
import type { UpstreamAsk } from "../upstream/server-requests.ts";
import { callTool } from "./call.ts";
import { HeldCall, type RoundSink } from "./held-call.ts";
import { standInAnswer } from "./input-answers.ts";
import { logLevelMeta, type callerLogLevel } from "./logging.ts";
import { openCallState, sealCallState } from "./request-state.ts";
import { errorResult, type CallDeps, type TaskCall } from "./results.ts";

/** Rounds of questions one call may take, like the SDK's own shim (8). */
export const MAX_INPUT_ROUNDS = 8;

/**
 * What relayedCall needs of the request it answers: the retry's material (2026-07-28), a way to
 * send notifications on its stream, and its cancel. The SDK's `ctx.mcpReq` is one; the fast relay
 * (fast-call.ts) makes its own.
 */
export type CallRequest = Pick<ServerContext["mcpReq"], "requestState" | "inputResponses" | "notify" | "signal">;

export type RelayedCallOptions = {
  /** What the caller declared it can answer (elicitation, sampling, roots). */
  capabilities: ClientCapabilities | undefined;
  log: ReturnType<typeof callerLogLevel>;
  /** The client's request `_meta` to pass on upstream (see mcp-server.ts). */
  meta?: Record<string, unknown>;
  /** The call asked for a task (tasks.ts). */
  task?: TaskCall;
  /** The call's tally of upstream time, for the gateway-added latency metric. */
  timing?: CallTiming;
};

/**
 * tools/call, with what the upstream asks during the call put to the client that made it.
 * Written once, the 2026-07-28 way: a call whose upstream needs an answer ends its round with an
 * `input_required` result and is resumed by the client's retry, whose `requestState` (sealed by
 * the gateway, see request-state.ts) says which call. A 2025 session never sees that result: the
 * SDK's legacy shim turns it into server-initiated requests on the call's stream and runs this
 * handler again with the answers. Upstreams of either era fit the same rounds: a 2025 upstream's
 * questions arrive mid-call (held-call.ts keeps the call open between rounds), a 2026 upstream's
 * arrive as its own `input_required` result (passed through, its state sealed inside ours).
 */
export async function relayedCall(deps: CallDeps, principal: Principal, request: CallToolRequest, ctx: CallRequest, options: RelayedCallOptions): Promise<CallToolResult | InputRequiredResult> {
  const tool = request.params.name;
  const holder = credentialId(principal.credential) ?? principal.userId;
  const standIn = (ask: UpstreamAsk, connection: string) => standInAnswer(ask, options.capabilities, connection);
  const start = (params: Record<string, unknown> | undefined): HeldCall => {
    const call = new HeldCall(standIn);
    const logMeta = logLevelMeta(options.log.level);
    return call.start(
      (relay) =>
        callTool(deps, principal, tool, request.params.arguments, {
          signal: call.signal,
          onProgress: (p) => call.progress(p),
          relay,
          ...(options.meta ? { meta: options.meta } : {}),
          ...(options.task ? { task: options.task } : {}),
          ...(options.timing ? { timing: options.timing } : {}),
        }),
      params || logMeta ? { ...logMeta, ...params } : undefined,
    );
  };

  let call: HeldCall;
  // What the gateway answered for the caller in this round (see input-answers.ts).
  let answered: Record<string, unknown> = {};
  const raw = ctx.requestState();
  if (typeof raw === "string") {
    const state = await openCallState(deps.keyring, principal, tool, raw);
    if (!state) throw new ProtocolError(ProtocolErrorCode.InvalidParams, "Invalid or expired requestState");
    const responses = ctx.inputResponses ?? {};
    if (state.held) {
      const held = deps.pool.held.take(state.held, holder);
      if (!(held instanceof HeldCall)) {
        return errorResult(`The gateway no longer holds this call of ${tool}: it waited too long for your answer, was cancelled, or is held by another gateway replica. Call the tool again.`);
      }
      held.answer(responses);
      call = held;
    } else {
      // The gateway's own answers of the last round join the client's; this round starts afresh.
      call = start({ inputResponses: { ...responses, ...state.answered }, ...(state.upstream !== undefined ? { requestState: state.upstream } : {}) });
    }
  } else {
    call = start(undefined);
  }

  for (;;) {
    const outcome = await round(call, request, ctx, options);
    if ("asks" in outcome) {
      if (++call.rounds > MAX_INPUT_ROUNDS) return giveUp(deps, call, `${tool} still asked for input after ${MAX_INPUT_ROUNDS} rounds; the gateway cancelled it.`);
      if (!deps.pool.held.hold(call, holder)) {
        return giveUp(deps, call, `${tool} needs an answer from you, but you already have ${deps.pool.held.limits.perHolder} calls waiting for answers (or the gateway holds the most it may). Answer or cancel those, then call again.`);
      }
      return inputRequired({ inputRequests: outcome.asks as InputRequests, requestState: await sealCallState(deps.keyring, principal, tool, { held: call.id }) });
    }
    deps.pool.held.release(call.id);
    const result = outcome.done;
    if (!isInputRequiredResult(result)) return result;
    // A 2026 upstream asks in its result: what the caller cannot answer is answered for it.
    const toClient: Record<string, UpstreamAsk> = {};
    for (const [key, ask] of Object.entries(result.inputRequests ?? {})) {
      const standing = standIn(ask as UpstreamAsk, call.connection ?? tool);
      if (standing === null) toClient[key] = ask as UpstreamAsk;
      else if ("answer" in standing) answered[key] = standing.answer;
      else return errorResult(`${standing.refuse}; the call could not go on.`);
    }
    const upstreamState = result.requestState;
    if (Object.keys(toClient).length === 0 && Object.keys(answered).length > 0) {
      if (++call.rounds > MAX_INPUT_ROUNDS) return errorResult(`${tool} still asked for input after ${MAX_INPUT_ROUNDS} rounds; the gateway stopped.`);
      const rounds = call.rounds;
      call = start({ inputResponses: answered, ...(upstreamState !== undefined ? { requestState: upstreamState } : {}) });
      call.rounds = rounds;
      answered = {};
      continue;
    }
    const requestState = await sealCallState(deps.keyring, principal, tool, { ...(upstreamState !== undefined ? { upstream: upstreamState } : {}), answered });
    return inputRequired({ ...(Object.keys(toClient).length > 0 ? { inputRequests: toClient as InputRequests } : {}), requestState });
  }
}

/** One round: the call's progress and log messages go to this request until it has a result or questions. */
async function round(call: HeldCall, request: CallToolRequest, ctx: CallRequest, options: RelayedCallOptions): Promise<Awaited<ReturnType<HeldCall["next"]>>> {
  const progressToken = request.params._meta?.progressToken;
  const sink: RoundSink = {
    log: (params) => {
      if (options.log.hears(params.level)) void ctx.notify({ method: "notifications/message", params }).catch(() => undefined);
    },
    progress: (p) => {
      if (progressToken === undefined) return;
      void ctx.notify({ method: "notifications/progress", params: { progressToken, ...p } }).catch(() => undefined);
    },
  };
  // The client cancelling this round's request cancels the call; a round that ends with
  // questions leaves the call running for the next.
  const cancel = (): void => call.cancel("the client cancelled the call");
  ctx.signal.addEventListener("abort", cancel, { once: true });
  call.attach(sink);
  try {
    return await call.next(ctx.signal);
  } finally {
    call.detach(sink);
    ctx.signal.removeEventListener("abort", cancel);
  }
}

function giveUp(deps: CallDeps, call: HeldCall, text: string): CallToolResult {
  deps.pool.held.release(call.id);
  call.cancel(text);
  return errorResult(text);
}
