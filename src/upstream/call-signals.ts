/** Tags the HTTP requests of one call, so the fetch under the SDK can end them with the call. */
export const CALL_HEADER = "x-mcp-gateway-call";

/**
 * The SDK aborts a request's POST when it is cancelled or times out only on 2026 connections; on
 * a 2025 one it sends notifications/cancelled and leaves the POST open, and a hung tool then
 * holds a socket for good. Each call registers its signal here and sends the id in CALL_HEADER;
 * the transport's fetch (see outbound-fetch.ts) strips the header and aborts the request with the call.
 */
export class CallSignals {
  private readonly signals = new Map<string, AbortSignal>();
  private next = 0;

  register(signal: AbortSignal): { headers: Record<string, string>; stop(): void } {
    const id = String(++this.next);
    this.signals.set(id, signal);
    return { headers: { [CALL_HEADER]: id }, stop: () => this.signals.delete(id) };
  }

  /** The signal of the call `headers` names (removing the header), if any. */
  take(headers: Headers): AbortSignal | undefined {
    const id = headers.get(CALL_HEADER);
    if (id === null) return undefined;
    headers.delete(CALL_HEADER);
    return this.signals.get(id);
  }
}
