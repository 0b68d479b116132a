import { Client, SdkError, SdkErrorCode, SdkHttpError, StreamableHTTPClientTransport, UnauthorizedError, ProtocolError, type OAuthClientProvider } from "@modelcontextprotocol/client";
import { createGuardedFetch, UpstreamUrlRefused } from "./guarded-fetch.ts";
import type { UpstreamAllowList } from "./url-policy.ts";
import { DecryptionError } from "../crypto/encryption.ts";
import { credentialHeaders, type UpstreamSecret } from "./credentials.ts";

/** A larger upstream answer is cut off and the call fails, rather than holding it in memory. */
export const MAX_UPSTREAM_RESPONSE_BYTES = 16 * 1024 * 1024;
export const CONNECT_TIMEOUT_MS = 15_000;

export type ConnectOptions = {
  url: string;
  secret: UpstreamSecret | null;
  /** For OAuth connections: the SDK refreshes tokens through it. */
  authProvider?: OAuthClientProvider;
  allow: UpstreamAllowList;
  timeoutMs?: number;
  onToolsChanged?: () => void;
  onClose?: () => void;
};

export class ResponseTooLarge extends Error {
  constructor() {
    super(`the upstream answer was larger than ${MAX_UPSTREAM_RESPONSE_BYTES / 1024 / 1024} MiB and was cut off`);
    this.name = "ResponseTooLarge";
  }
}

/** Connects and negotiates (2026-07-28 first, 2025 revisions as fallback). */
export async function connectUpstream(options: ConnectOptions): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    fetch: capResponses(createGuardedFetch({ allow: options.allow })),
    requestInit: { headers: credentialHeaders(options.secret) },
    ...(options.authProvider ? { authProvider: options.authProvider } : {}),
  });
  const client = new Client(
    { name: "mcp-gateway", version: "0.1.0" },
    {
      versionNegotiation: { mode: "auto" },
      ...(options.onToolsChanged
        ? { listChanged: { tools: { autoRefresh: false, onChanged: () => options.onToolsChanged?.() } } }
        : {}),
    },
  );
  client.onclose = () => options.onClose?.();
  const timeout = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeout);
  try {
    await raceSignal(client.connect(transport, { timeout, signal } as never), signal);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return client;
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new SdkError(SdkErrorCode.RequestTimeout, "connect timed out"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Streams the body through, failing once more than the cap arrived (POST answers only: listen streams live long). */
function capResponses(inner: typeof fetch): typeof fetch {
  const capped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await inner(input, init);
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    if (method !== "POST" || response.body === null) return response;
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > MAX_UPSTREAM_RESPONSE_BYTES) {
      await response.body.cancel().catch(() => undefined);
      throw new ResponseTooLarge();
    }
    let seen = 0;
    const limiter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > MAX_UPSTREAM_RESPONSE_BYTES) controller.error(new ResponseTooLarge());
        else controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(limiter), response);
  };
  return Object.assign(capped, { preconnect: () => undefined }) as typeof fetch;
}

export type UpstreamFailure = {
  kind: "auth" | "refused_url" | "unreachable" | "timeout" | "not_mcp" | "too_large" | "protocol";
  /** A sentence a person can act on; never contains a credential. */
  message: string;
  /** True when the request provably never reached the upstream (safe to retry). */
  notSent: boolean;
};

/** Turns whatever the SDK or the network threw into words. */
export function describeUpstreamError(error: unknown): UpstreamFailure {
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof UpstreamUrlRefused) return { kind: "refused_url", message: error.reason, notSent: true };
  if (error instanceof DecryptionError) {
    return { kind: "auth", message: "the stored credential could not be decrypted (a different encryption key, or a tampered row); re-authorize the connection", notSent: true };
  }
  if (error instanceof ResponseTooLarge || (error instanceof Error && error.cause instanceof ResponseTooLarge)) {
    return { kind: "too_large", message: new ResponseTooLarge().message, notSent: false };
  }
  if (error instanceof UnauthorizedError) {
    return { kind: "auth", message: "the server refused the stored credential (401); re-authorize the connection", notSent: false };
  }
  if (error instanceof SdkHttpError) {
    const status = error.status;
    if (status === 401 || status === 403) {
      return { kind: "auth", message: `the server refused the stored credential (${status}); re-authorize the connection`, notSent: false };
    }
    if (status === 404 || status === 405 || status === 415) {
      return { kind: "not_mcp", message: `the URL answered HTTP ${status}: it does not look like a Streamable HTTP MCP endpoint (check the path, often /mcp)`, notSent: false };
    }
    if (status === 429) return { kind: "unreachable", message: "the server is rate limiting requests (429); try again later", notSent: false };
    return { kind: "unreachable", message: `the server answered HTTP ${status}`, notSent: false };
  }
  if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
    return { kind: "timeout", message: "the server did not answer in time", notSent: false };
  }
  if (error instanceof ProtocolError) {
    return { kind: "protocol", message: `the server answered with an error: ${clip(text)}`, notSent: false };
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
  return { kind: "unreachable", message: `the connection failed: ${clip(text)}`, notSent: false };
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}
