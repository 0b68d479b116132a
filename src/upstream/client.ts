import { Client, SdkError, SdkErrorCode, SdkHttpError, StreamableHTTPClientTransport, UnauthorizedError, ProtocolError, InsufficientScopeError, type AuthProvider, type OAuthClientProvider } from "@modelcontextprotocol/client";
import { createGuardedFetch, ResponseTooLarge, UpstreamUrlRefused, type ResponseBudget } from "../net/guarded-fetch.ts";
import { BytesInFlight } from "../net/bytes-in-flight.ts";
import type { UpstreamAllowList } from "../net/url-policy.ts";
import { DecryptionError } from "../crypto/encryption.ts";
import type { UpstreamSecret } from "../connections/secret.ts";
import { credentialHeaders, upstreamUrl } from "../connections/auth-kinds/upstream.ts";
import { NeedsReauthorization } from "./oauth/errors.ts";
import { AnswerCutOff, AnswerWatch, tooLargeMessage, WATCH_HEADER } from "./answer-watch.ts";
import type { Redactor } from "../connections/redact.ts";
import { limitOutbound, TooManyOpenRequests, UpstreamAsksToWait, type OutboundLimits } from "./outbound-fetch.ts";
import { handleServerRequests, outsideCalls, UPSTREAM_CLIENT_CAPABILITIES } from "./server-requests.ts";
import { allowDirectCalls } from "./direct-call.ts";

/** A larger upstream answer is cut off and the call fails, rather than holding it in memory. */
export const MAX_UPSTREAM_RESPONSE_BYTES = 16 * 1024 * 1024;
export const CONNECT_TIMEOUT_MS = 15_000;
/**
 * Answers without a declared length being read at once, all upstreams together: four answers at
 * the cap. Oversized answers arriving together are cut here instead of each costing the cap.
 */
export const MAX_UPSTREAM_BYTES_IN_FLIGHT = 4 * MAX_UPSTREAM_RESPONSE_BYTES;
const answersInFlight = new BytesInFlight(MAX_UPSTREAM_BYTES_IN_FLIGHT);

/**
 * What one upstream answer may cost. A POST answer (JSON or an event stream) is bounded in all;
 * its time is the call's own deadline, which the SDK and the pool hold. Anything else (the GET
 * listen stream, OAuth metadata the SDK fetches on a 401) must answer within the connect
 * timeout; the listen stream lives long, so it is bounded per event.
 */
export function upstreamBudget(method: string): ResponseBudget {
  if (method === "POST") return { maxBytes: MAX_UPSTREAM_RESPONSE_BYTES, deadlineMs: null, inFlight: answersInFlight };
  return { maxBytes: MAX_UPSTREAM_RESPONSE_BYTES, deadlineMs: CONNECT_TIMEOUT_MS, eventStreams: "per-event" };
}

export type ConnectOptions = {
  url: string;
  secret: UpstreamSecret | null;
  /** For OAuth connections: the SDK refreshes tokens through it. */
  authProvider?: AuthProvider | OAuthClientProvider;
  allow: UpstreamAllowList;
  /** Deadline of the whole handshake. */
  timeoutMs?: number;
  /** Gives up the handshake early (the pool closing). */
  signal?: AbortSignal;
  /** Watches the answer streams of requests tagged through it (see answer-watch.ts). */
  answers?: AnswerWatch;
  /** Per-call abort, open-request bounds and Retry-After windows (see outbound-fetch.ts). */
  outbound?: OutboundLimits;
  onToolsChanged?: () => void;
  /** The upstream says a resource it was asked to watch changed (resources/subscribe). */
  onResourceUpdated?: (uri: string) => void;
  onClose?: () => void;
};

const watches = new WeakMap<Client, AnswerWatch>();

/** How the gateway names itself to upstreams. */
const GATEWAY_CLIENT_INFO = { name: "mcp-gateway", version: "0.1.0" };

/** The watch over a connected client's answer streams (see answer-watch.ts). */
export function answerWatchOf(client: Client): AnswerWatch | undefined {
  return watches.get(client);
}

/** Connects and negotiates (2026-07-28 first, 2025 revisions as fallback). */
export async function connectUpstream(options: ConnectOptions): Promise<Client> {
  const answers = options.answers ?? new AnswerWatch();
  const guarded = createGuardedFetch({ allow: options.allow, budget: upstreamBudget });
  const limiter = options.outbound ? limitOutbound(guarded, options.outbound) : null;
  const limited = limiter ?? guarded;
  const url = upstreamUrl(options.url, options.secret);
  const headers = credentialHeaders(options.secret);
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: watchAnswers(limited, answers),
    requestInit: { headers },
    ...(options.authProvider ? { authProvider: options.authProvider } : {}),
  });
  const client = new Client(
    GATEWAY_CLIENT_INFO,
    {
      versionNegotiation: { mode: "auto" },
      capabilities: UPSTREAM_CLIENT_CAPABILITIES,
      ...(options.onToolsChanged
        ? // The SDK's own debounce restarts on every notification, so a steady storm would starve it:
          // pass each one on, and let the pool hold them to one sync per window. A changed prompt or
          // resource list re-syncs the same way (one sync lists all three).
          { listChanged: Object.fromEntries(["tools", "prompts", "resources"].map((kind) => [kind, { autoRefresh: false, debounceMs: 0, onChanged: () => options.onToolsChanged?.() }])) }
        : {}),
    },
  );
  watches.set(client, answers);
  // Plain tools/calls may skip the SDK client (direct-call.ts) through the same fetch; an OAuth
  // connection's tokens and their refresh stay the SDK transport's.
  if (!options.authProvider) {
    const send = limiter ? limiter.held : async (input: string, init: RequestInit) => ({ response: await limited(input, init), done: () => undefined });
    allowDirectCalls(client, { url, headers: { ...headers }, send, clientInfo: GATEWAY_CLIENT_INFO, capabilities: UPSTREAM_CLIENT_CAPABILITIES });
  }
  handleServerRequests(client);
  const onResourceUpdated = options.onResourceUpdated;
  if (onResourceUpdated) client.setNotificationHandler("notifications/resources/updated", (n) => onResourceUpdated(n.params.uri));
  client.onclose = () => options.onClose?.();
  const timeout = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const timer = new AbortController();
  const timeoutId = setTimeout(() => timer.abort(new SdkError(SdkErrorCode.RequestTimeout, "connect timed out")), timeout);
  const signal = options.signal ? AbortSignal.any([timer.signal, options.signal]) : timer.signal;
  try {
    // A client made for a call outlives it: its streams must not run in that call's context.
    await raceSignal(outsideCalls(() => client.connect(transport, { timeout, signal } as never)), signal);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timeoutId);
  }
  return client;
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new SdkError(SdkErrorCode.RequestTimeout, "cancelled");
}

/**
 * An event stream answering a request tagged by an AnswerWatch is watched: if it breaks off
 * before the answer (or outgrows its budget), the watcher hears it at once.
 */
function watchAnswers(inner: typeof fetch, answers: AnswerWatch): typeof fetch {
  const watching = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let watchId: string | null = null;
    if (init?.headers !== undefined) {
      const headers = new Headers(init.headers);
      watchId = headers.get(WATCH_HEADER);
      if (watchId !== null) {
        headers.delete(WATCH_HEADER);
        init = { ...init, headers };
      }
    }
    const response = await inner(input, init);
    if (watchId === null || response.body === null) return response;
    if (!(response.headers.get("content-type") ?? "").includes("text/event-stream")) return response;
    const body = watchedBody(response.body, (error, resumable) => {
      if (resumable) return;
      const cutOff =
        error === null
          ? null
          : error instanceof ResponseTooLarge
            ? new AnswerCutOff(tooLargeMessage(error), true)
            : new AnswerCutOff("the server dropped the connection in the middle of its answer");
      answers.streamEnded(watchId, cutOff);
    });
    return new Response(body, response);
  };
  return Object.assign(watching, { preconnect: () => undefined }) as typeof fetch;
}

// Event ids make a stream resumable: the SDK then reconnects for the answer itself.
const EVENT_ID = /\nid:/;
const SCAN_FOR_IDS_BYTES = 64 * 1024;

function watchedBody(source: ReadableStream<Uint8Array>, onEnd: (error: unknown, resumable: boolean) => void): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const decoder = new TextDecoder();
  let seen = 0;
  let resumable = false;
  let tail = "\n";
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          onEnd(null, resumable);
          return;
        }
        if (!resumable && seen < SCAN_FOR_IDS_BYTES) {
          const text = tail + decoder.decode(value, { stream: true });
          resumable = EVENT_ID.test(text);
          tail = text.slice(-3);
        }
        seen += value.byteLength;
        controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        onEnd(error, resumable);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** The upstream's tool list outgrew what discovery reads (see sync.ts); the reason says which bound. */
export class ToolListTooLong extends Error {
  override name = "ToolListTooLong";

  constructor(readonly reason: string) {
    super(reason);
  }
}

export type UpstreamFailure = {
  /** `busy`: the gateway's own bound on open requests; says nothing of the upstream's health. */
  kind: "auth" | "refused_url" | "unreachable" | "timeout" | "not_mcp" | "too_large" | "protocol" | "busy";
  /** A sentence a person can act on; never contains a credential. */
  message: string;
  /** True when the request provably never reached the upstream (safe to retry). */
  notSent: boolean;
  /** The HTTP status the upstream answered with, when that was the failure. */
  httpStatus?: number;
  /** Not sent because the upstream's Retry-After (429/503) is in force until then (epoch ms). */
  retryAfterUntil?: number;
};

/**
 * Turns whatever the SDK or the network threw into words. With the connection's `redactor`, the
 * upstream's own text is redacted whole before it is shortened (a secret cut in two would escape).
 */
export function describeUpstreamError(error: unknown, redactor?: Redactor): UpstreamFailure {
  // The SDK wraps transport failures (e.g. a refused URL during version negotiation): judge the
  // first cause we recognise.
  for (let cause = error instanceof Error ? error.cause : undefined, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause instanceof UpstreamAsksToWait || cause instanceof TooManyOpenRequests || cause instanceof UpstreamUrlRefused || cause instanceof DecryptionError || cause instanceof ResponseTooLarge || cause instanceof SdkHttpError || cause instanceof UnauthorizedError) {
      return describeUpstreamError(cause, redactor);
    }
  }
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof UpstreamUrlRefused) return { kind: "refused_url", message: error.reason, notSent: true };
  if (error instanceof UpstreamAsksToWait) return { kind: "unreachable", message: error.message, notSent: true, httpStatus: error.status, retryAfterUntil: error.until };
  if (error instanceof TooManyOpenRequests) return { kind: "busy", message: error.message, notSent: true };
  if (error instanceof SessionLost) return { kind: "unreachable", message: error.message, notSent: true };
  if (error instanceof AnswerCutOff) return { kind: error.tooLarge ? "too_large" : "unreachable", message: error.reason, notSent: false };
  if (error instanceof DecryptionError) {
    return { kind: "auth", message: "the stored credential could not be decrypted (a different encryption key, or a tampered row); re-authorize the connection", notSent: true };
  }
  if (error instanceof ResponseTooLarge) return { kind: "too_large", message: tooLargeMessage(error), notSent: false };
  if (error instanceof ToolListTooLong) return { kind: "too_large", message: error.reason, notSent: false };
  if (error instanceof NeedsReauthorization) return { kind: "auth", message: error.reason, notSent: false };
  // Step-up: one tool wants more scope than was granted. The connection stays usable; the scope is
  // remembered (see oauth/manager.ts) and asked for at the next Re-authorize.
  if (error instanceof InsufficientScopeError) {
    const scope = error.requiredScope ? ` (scope "${clip(error.requiredScope.replace(/[^\x20-\x7e]/g, ""), redactor)}")` : "";
    return { kind: "protocol", message: `it needs a permission the gateway was not granted${scope}; a workspace admin can grant it with Re-authorize in the dashboard`, notSent: false };
  }
  if (error instanceof UnauthorizedError) {
    return { kind: "auth", message: "the server refused the stored credential (401); re-authorize the connection", notSent: false };
  }
  if (error instanceof SdkHttpError) {
    const status = error.status;
    if (status === 401 || status === 403) {
      return { kind: "auth", message: `the server refused the stored credential (${status}); re-authorize the connection`, notSent: false, httpStatus: status };
    }
    if (status === 404 || status === 405 || status === 415) {
      return { kind: "not_mcp", message: `the URL answered HTTP ${status}: it does not look like a Streamable HTTP MCP endpoint (check the path, often /mcp)`, notSent: false, httpStatus: status };
    }
    if (status === 429) return { kind: "unreachable", message: "the server is rate limiting requests (429); try again later", notSent: false, httpStatus: status };
    return { kind: "unreachable", message: `the server answered HTTP ${status}`, notSent: false, httpStatus: status };
  }
  if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
    return { kind: "timeout", message: "the server did not answer in time", notSent: false };
  }
  if (error instanceof SdkError && error.code === SdkErrorCode.ConnectionClosed) {
    return { kind: "unreachable", message: "the connection to the server closed before it answered", notSent: false };
  }
  if (error instanceof ProtocolError) {
    return { kind: "protocol", message: `the server answered with an error: ${clip(text, redactor)}`, notSent: false };
  }
  const code = (error as { code?: string } | null)?.code ?? "";
  if (code === "ConnectionRefused" || code === "ECONNREFUSED" || /Unable to connect|ECONNREFUSED|connection refused/i.test(text)) {
    return { kind: "unreachable", message: "the server refused the connection (is it running?)", notSent: true };
  }
  if (code === "ENOTFOUND" || /could not be resolved|getaddrinfo|DNS/i.test(text)) {
    return { kind: "unreachable", message: "the server's host name could not be resolved", notSent: true };
  }
  if (error instanceof SyntaxError || /JSON|Unexpected token|invalid_type|ZodError/i.test(text) || (error as Error)?.name === "ZodError") {
    return { kind: "not_mcp", message: "the server's answer is not valid MCP (JSON-RPC) — is this an MCP endpoint?", notSent: false };
  }
  if (/abort/i.test(text)) return { kind: "timeout", message: "the request was cancelled before the server answered", notSent: false };
  return { kind: "unreachable", message: `the connection failed: ${clip(text, redactor)}`, notSent: false };
}

/**
 * The upstream refused a request because it no longer knows the client's session (it restarted,
 * or expired it). The refusal comes from its transport, before any tool ran: safe to send again
 * on a new session.
 */
export class SessionLost extends Error {
  constructor() {
    super("the server no longer knows the gateway's session (did it restart?)");
    this.name = "SessionLost";
  }
}

/** 404 is what the spec says for an unknown session; some servers (server-everything) answer 400. */
export function isSessionRefusal(error: unknown, client: Client): boolean {
  const sessionId = (client.transport as { sessionId?: string } | undefined)?.sessionId;
  if (!sessionId || !(error instanceof SdkHttpError)) return false;
  const text = String((error.data as { text?: unknown } | undefined)?.text ?? error.message);
  return error.status === 404 || (error.status === 400 && /session/i.test(text));
}

/** Discovery (connect, tools/list) has no side effects: retry what may pass on a second try. */
export function isRetryableDiscovery(failure: UpstreamFailure): boolean {
  return failure.kind === "unreachable" && failure.httpStatus !== 429 && failure.retryAfterUntil === undefined;
}

/** A tools/call may have side effects: only one that provably never left may be sent again. */
export function isRetryableCall(failure: UpstreamFailure): boolean {
  return failure.notSent && failure.kind === "unreachable" && failure.retryAfterUntil === undefined;
}

function clip(text: string, redactor: Redactor | undefined): string {
  const oneLine = (redactor ? redactor.redactText(text) : text).replace(/\s+/g, " ").trim();
  if (redactor) return redactor.clip(oneLine, 200);
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}
