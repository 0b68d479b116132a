import { AsyncLocalStorage } from "node:async_hooks";
import { ProtocolError, ProtocolErrorCode, type Client, type ClientCapabilities, type LoggingMessageNotification } from "@modelcontextprotocol/client";

/**
 * What the gateway's upstream client declares. One client serves every downstream session of a
 * connection, and an upstream decides at the handshake which tools to offer, so it declares the
 * union: what a given caller lacks is answered for it, call by call (see gateway/input-answers.ts).
 * Roots without listChanged: each call's roots are the calling client's, asked afresh every time,
 * so there is no one list whose changes the upstream could follow.
 */
export const UPSTREAM_CLIENT_CAPABILITIES: ClientCapabilities = { sampling: {}, elicitation: { form: {}, url: {} }, roots: {} };

/** A request an upstream sends to its client during a call (the 2025 server-initiated form). */
export type UpstreamAsk = { method: "elicitation/create" | "sampling/createMessage" | "roots/list"; params?: Record<string, unknown> };

/** The call an upstream's request or log message belongs to: the gateway hands both to its caller. */
export type UpstreamCallChannel = {
  /** Resolves with what the caller answered (passed upstream unchanged), or rejects with why not. */
  ask(request: UpstreamAsk, signal: AbortSignal): Promise<Record<string, unknown>>;
  log(params: LoggingMessageNotification["params"]): void;
};

/**
 * The SDK does not tell a client's request handler which of its own requests a server's request
 * relates to, and the client is shared by every call. A 2025 server sends such a request on the
 * event stream that answers the call; the transport reads that stream in a loop started by the
 * call's own send, so the loop (and the handler it dispatches to) runs in the call's async
 * context. The channel is held there: a request that arrives on another call's stream finds that
 * call's channel, and one on no call's stream (the standalone GET stream) finds none.
 */
const calls = new AsyncLocalStorage<UpstreamCallChannel>();

/** Runs one upstream request so that what the upstream asks or logs while answering it reaches `channel`. */
export function runAsCall<T>(channel: UpstreamCallChannel, work: () => Promise<T>): Promise<T> {
  return calls.run(channel, work);
}

/**
 * Runs `work` outside any call: a client connected on a call's behalf must not carry that call's
 * context into its standalone stream, or requests arriving there would reach that caller.
 */
export function outsideCalls<T>(work: () => T): T {
  return calls.exit(work);
}

/** Installs the handlers for what an upstream may ask its client. */
export function handleServerRequests(client: Client): void {
  client.setRequestHandler("elicitation/create", (request, ctx) => relay({ method: "elicitation/create", params: request.params as Record<string, unknown> }, ctx.mcpReq.signal) as never);
  client.setRequestHandler("sampling/createMessage", (request, ctx) => relay({ method: "sampling/createMessage", params: request.params as Record<string, unknown> }, ctx.mcpReq.signal) as never);
  client.setRequestHandler("roots/list", async (request, ctx) => {
    // Servers often list roots right after the handshake, outside any call: the gateway itself
    // exposes none, and the caller's own roots are given during its calls.
    if (!calls.getStore()) return { roots: [] };
    return (await relay({ method: "roots/list", ...(request.params ? { params: request.params as Record<string, unknown> } : {}) }, ctx.mcpReq.signal)) as never;
  });
  client.setNotificationHandler("notifications/message", (notification) => calls.getStore()?.log(notification.params));
}

function relay(request: UpstreamAsk, signal: AbortSignal): Promise<Record<string, unknown>> {
  const channel = calls.getStore();
  if (!channel) return Promise.reject(new ProtocolError(ProtocolErrorCode.InvalidRequest, `The gateway relays ${request.method} only during a tool call, to the client that made it.`));
  return channel.ask(request, signal);
}
