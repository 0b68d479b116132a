import type { CallSignals, CallTiming } from "./call-signals.ts";
import type { OpenRequests } from "./open-requests.ts";
import { retryAfterUntil, type RetryAfterWindows } from "./retry-after.ts";
import { onBodyEnd } from "../net/body-end.ts";
import { isHeaderRecord } from "../net/guarded-fetch.ts";

/** The upstream asked (429 or 503 with Retry-After) not to be called before `until`; nothing was sent. */
export class UpstreamAsksToWait extends Error {
  override name = "UpstreamAsksToWait";

  constructor(
    readonly until: number,
    readonly status: number,
  ) {
    super(`the upstream asked not to be called before ${new Date(until).toISOString()} (HTTP ${status}, Retry-After)`);
  }
}

/** The gateway already holds as many requests open to this upstream (or to all) as it allows; nothing was sent. */
export class TooManyOpenRequests extends Error {
  override name = "TooManyOpenRequests";

  constructor(readonly scope: "connection" | "total") {
    super(scope === "connection" ? "the gateway already holds as many requests open to this server as it allows" : "the gateway already holds as many requests open to upstream servers as it allows");
  }
}

/**
 * Hears how each upstream POST (an MCP message) ended — the answer read to its end, or the error —
 * and how long it took, for metrics; with tracing on, sees it before it is sent (a span, whose
 * `traceparent` goes into the headers). An object, not a closure made per request: the hot path.
 */
export type OutboundObserver = {
  /** Tracing only: a span for the request, and the tally of the MCP request it is part of (when no call names one). */
  start?(request: { method: string; url: URL; headers: Headers }): { span: OutboundSpanEnd; timing: CallTiming | undefined };
  /** The request ended after `seconds`; `timing`: the tally of the call (or MCP request) it was part of. */
  ended(seconds: number, timing: CallTiming | undefined): void;
};

type OutboundSpanEnd = { end(outcome: { status?: number; error?: unknown }): void };

export type OutboundLimits = { connectionId: string; calls: CallSignals; open: OpenRequests; waits: RetryAfterWindows; now?: () => number; observe?: OutboundObserver };

/** An answer its caller reads itself (upstream/direct-call.ts): `done` once it is finished with the body, however. */
export type HeldAnswer = { response: Response; done(): void };

/** The limited fetch, and the same for a caller that reads the body itself and says when it is done. */
export type LimitedFetch = typeof fetch & { held(input: string, init: RequestInit): Promise<HeldAnswer> };

const NOTHING_HELD = (): void => undefined;

/**
 * Between the SDK's transport and the guarded fetch: a request is aborted with the call it
 * belongs to, holds one of the connection's open-request places until its answer is read or it
 * ends, is not sent while the upstream's Retry-After is in force, and a 429/503 with Retry-After
 * starts such a window.
 */
export function limitOutbound(inner: typeof fetch, limits: OutboundLimits): LimitedFetch {
  const now = limits.now ?? Date.now;
  // `hold`: the caller says when the body is done with; otherwise the body says so itself, wrapped.
  const send = async (input: string | URL | Request, init: RequestInit | undefined, hold: boolean): Promise<HeldAnswer> => {
    const waiting = limits.waits.active(limits.connectionId, now());
    if (waiting) throw new UpstreamAsksToWait(waiting.at, waiting.status);
    let signal = init?.signal ?? undefined;
    const observe = limits.observe;
    let observed = false;
    let started = 0;
    let timing: CallTiming | undefined;
    let span: OutboundSpanEnd | undefined;
    if (init?.headers !== undefined || observe) {
      // Headers given as a record (a direct call's, upstream/direct-call.ts) stay one, unless tracing needs them as Headers.
      const taken = isHeaderRecord(init?.headers) && !observe?.start ? limits.calls.takeFrom(init.headers) : null;
      const headers = taken === null ? new Headers(init?.headers) : null;
      const call = taken !== null ? taken.call : limits.calls.take(headers as Headers);
      // A call's own signal may already be the request's.
      if (call && call.signal !== signal) signal = signal ? AbortSignal.any([signal, call.signal]) : call.signal;
      const method = (init?.method ?? "GET").toUpperCase();
      if (observe && method === "POST") {
        observed = true;
        timing = call?.timing;
        if (observe.start) {
          const start = observe.start({ method, url: new URL(input instanceof Request ? input.url : input), headers: headers as Headers });
          span = start.span;
          timing ??= start.timing;
        }
        started = performance.now();
      }
      init = { ...init, headers: taken?.headers ?? (headers as Headers), ...(signal ? { signal } : {}) };
    }
    signal?.throwIfAborted();
    const release = limits.open.open(limits.connectionId);
    if (typeof release !== "function") throw new TooManyOpenRequests(release.full);
    signal?.addEventListener("abort", release, { once: true });
    let response: Response;
    try {
      response = await inner(input, init);
    } catch (error) {
      release();
      if (observed) {
        observe?.ended((performance.now() - started) / 1000, timing);
        span?.end({ error });
      }
      throw error;
    }
    const until = retryAfterUntil(response.status, response.headers.get("retry-after"), now());
    if (until !== null) limits.waits.note(limits.connectionId, until, response.status);
    if (response.body === null) {
      release();
      if (observed) {
        observe?.ended((performance.now() - started) / 1000, timing);
        span?.end({ status: response.status });
      }
      return { response, done: NOTHING_HELD };
    }
    const status = response.status;
    let over = false;
    const ended = observed
      ? (): void => {
          if (over) return;
          over = true;
          release();
          observe?.ended((performance.now() - started) / 1000, timing);
          span?.end({ status });
        }
      : release;
    if (hold) return { response, done: ended };
    // A new Response has no URL: keep the one the SDK would have seen.
    return { response: Object.defineProperties(new Response(onBodyEnd(response.body, ended), response), { url: { value: response.url }, redirected: { value: response.redirected } }), done: NOTHING_HELD };
  };
  const limited = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => (await send(input, init, false)).response;
  return Object.assign(limited, { preconnect: () => undefined, held: (input: string, init: RequestInit) => send(input, init, true) }) as LimitedFetch;
}
