/** Tags the HTTP requests of one call, so the fetch under the SDK can end them with the call. */
export const CALL_HEADER = "x-mcp-gateway-call";

/**
 * The SDK aborts a request's POST when it is cancelled or times out only on 2026 connections; on
 * a 2025 one it sends notifications/cancelled and leaves the POST open, and a hung tool then
 * holds a socket for good. Each call registers its signal here and sends the id in CALL_HEADER;
 * the transport's fetch (see outbound-fetch.ts) strips the header and aborts the request with the call.
 */
export class CallSignals {
  private readonly calls = new Map<string, TaggedCall>();
  private next = 0;

  /**
   * `timing`, when the call is observed (metrics): its upstream requests add the time they took
   * to it, passed along this way rather than in an AsyncLocalStorage (see observe/request-context.ts).
   */
  register(signal: AbortSignal, timing?: CallTiming): { headers: Record<string, string>; stop(): void } {
    const id = String(++this.next);
    this.calls.set(id, { signal, timing });
    return { headers: { [CALL_HEADER]: id }, stop: () => this.calls.delete(id) };
  }

  /** The call a record of headers names, if any, and the headers to send (the tag left out). */
  takeFrom(headers: Record<string, string>): { call: TaggedCall | undefined; headers: Record<string, string> } {
    const id = headers[CALL_HEADER];
    if (id === undefined) return { call: undefined, headers };
    const { [CALL_HEADER]: _, ...rest } = headers;
    return { call: this.calls.get(id), headers: rest };
  }

  /** The call `headers` names (removing the header), if any. */
  take(headers: Headers): TaggedCall | undefined {
    const id = headers.get(CALL_HEADER);
    if (id === null) return undefined;
    headers.delete(CALL_HEADER);
    return this.calls.get(id);
  }
}

/** A call's running tally of the seconds its upstream HTTP requests took (the gateway's share is the rest). */
export type CallTiming = { upstreamSeconds: number };

export type TaggedCall = { signal: AbortSignal; timing: CallTiming | undefined };
