// An MCP server that misbehaves on demand. In "ok" mode it is the SDK
// fixture from upstream.ts with an echo tool; other modes break the
// JSON-RPC requests (initialize, server/discover, tools/list, tools/call…)
// in one way each. Notifications, GET streams and DELETE always reach the
// healthy fixture, so a fault is seen where a client waits for an answer.
import type { Server } from "bun";
import { createUpstreamHandler, type UpstreamHandler } from "./upstream.ts";

export type FaultMode =
  | "ok"
  | "hang" // accepts the request, never answers
  | "slow" // answers correctly after slowMs
  | "http500"
  | "http429" // with Retry-After: 1
  | "http401" // with WWW-Authenticate: Bearer
  | "garbage" // 200, application/json, bytes that are not JSON
  | "invalid-jsonrpc" // 200, JSON that is not a JSON-RPC response
  | "drop-mid-sse" // starts an event stream, writes half an event, drops the connection
  | "flap" // ok, http500, ok, http500… per request
  | "huge" // 200, a ~50 MB JSON-RPC response, streamed
  | "refused" // not listening: connects are refused; any other mode listens again on the same port
  | "list-changed-storm"; // healthy, plus a flood of notifications/tools/list_changed on every open stream

export interface FaultyUpstream {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  readonly mode: FaultMode;
  /** HTTP requests received, of any kind. */
  readonly hits: number;
  /** Methods of the JSON-RPC requests received (not notifications), in order, whatever the mode. */
  readonly methods: string[];
  /** Delay of "slow" mode; change it at any time. */
  slowMs: number;
  /** The healthy fixture behind "ok" mode, to read its requests or change its tools. */
  healthy: UpstreamHandler;
  /** Await it when switching to or from "refused": the socket closes or reopens. */
  setMode(mode: FaultMode): Promise<void>;
  stop(): Promise<void>;
}

const HUGE_BYTES = 50 * 1024 * 1024;
const STORM_BURST = 10;
const STORM_EVERY_MS = 10;

export async function startFaultyUpstream(
  initialMode: FaultMode = "ok",
  options: { slowMs?: number } = {},
): Promise<FaultyUpstream> {
  const healthy = createUpstreamHandler({ name: "faulty-upstream", tools: ["echo"] });
  let server: Server<undefined> | undefined = listen(0);
  const port = Number(server.url.port);
  let mode: FaultMode = "ok";
  let hits = 0;
  const methods: string[] = [];
  let faultable = 0;
  let storm: ReturnType<typeof setInterval> | undefined;

  const upstream: FaultyUpstream = {
    url: `http://127.0.0.1:${port}/mcp`,
    get mode() {
      return mode;
    },
    get hits() {
      return hits;
    },
    methods,
    slowMs: options.slowMs ?? 1000,
    healthy,
    setMode,
    stop,
  };

  function listen(onPort: number): Server<undefined> {
    return Bun.serve({ hostname: "127.0.0.1", port: onPort, idleTimeout: 255, fetch });
  }

  async function setMode(next: FaultMode): Promise<void> {
    mode = next;
    faultable = 0; // flap starts with a good answer
    clearInterval(storm);
    if (mode === "list-changed-storm") storm = setInterval(stormOnce, STORM_EVERY_MS);
    if (mode === "refused" && server !== undefined) {
      await server.stop(true);
      server = undefined;
    } else if (mode !== "refused" && server === undefined) {
      server = listen(port);
    }
  }

  function stormOnce(): void {
    for (let i = 0; i < STORM_BURST; i++) healthy.notifyToolsChanged();
  }

  async function stop(): Promise<void> {
    clearInterval(storm);
    await server?.stop(true);
    server = undefined;
    await healthy.close();
  }

  async function fetch(request: Request): Promise<Response> {
    hits++;
    const { id, method } = await jsonRpcRequest(request);
    if (id === undefined) return healthy.fetch(request);
    methods.push(method);
    switch (mode) {
      case "ok":
      case "list-changed-storm":
      case "refused": // only reachable by a request already in flight when the socket closed
        return healthy.fetch(request);
      case "slow":
        await Bun.sleep(upstream.slowMs);
        return healthy.fetch(request);
      case "flap":
        return faultable++ % 2 === 0 ? healthy.fetch(request) : httpError(500);
      case "hang":
        return hang(request);
      case "http500":
        return httpError(500);
      case "http429":
        return httpError(429, { "retry-after": "1" });
      case "http401":
        return httpError(401, { "www-authenticate": 'Bearer error="invalid_token"' });
      case "garbage":
        return garbage();
      case "invalid-jsonrpc":
        return Response.json({ hello: "world" });
      case "drop-mid-sse":
        return dropMidEvent(id);
      case "huge":
        return huge(id);
    }
  }

  if (initialMode !== "ok") await setMode(initialMode);
  return upstream;
}

type RequestId = string | number | null;

/** The id and method of the JSON-RPC request a POST carries; no id for notifications, responses, GET, DELETE. */
async function jsonRpcRequest(request: Request): Promise<{ id: RequestId | undefined; method: string }> {
  if (request.method !== "POST") return { id: undefined, method: "" };
  const body: unknown = await request
    .clone()
    .json()
    .catch(() => undefined);
  const messages = Array.isArray(body) ? body : [body];
  const first = messages.find((m) => typeof m?.method === "string" && m.id !== undefined);
  return { id: first?.id, method: first?.method ?? "" };
}

/** Never answers; lets go only when the client gives up or the server stops. */
function hang(request: Request): Promise<Response> {
  return new Promise((resolve) => {
    request.signal.addEventListener("abort", () => resolve(new Response(null, { status: 499 })), { once: true });
  });
}

function httpError(status: number, headers: Record<string, string> = {}): Response {
  return new Response(`fault injected: HTTP ${status}`, { status, headers: { "content-type": "text/plain", ...headers } });
}

function garbage(): Response {
  const noise = crypto.getRandomValues(new Uint8Array(512));
  const body = new Blob(["\u0000not json\u0000", noise]);
  return new Response(body, { headers: { "content-type": "application/json" } });
}

function dropMidEvent(id: RequestId): Response {
  const encoder = new TextEncoder();
  const stream = new ReadableStream({
    async start(controller) {
      controller.enqueue(encoder.encode(`event: message\ndata: {"jsonrpc":"2.0","id":${JSON.stringify(id)},"res`));
      // Half an event on the wire first, then the drop: the fault being injected.
      await Bun.sleep(20);
      // Erroring the body makes Bun reset the connection rather than end the
      // chunked body cleanly; with no reason given, it also logs nothing.
      controller.error(undefined);
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}

/** A well-formed JSON-RPC result whose one text block is ~50 MB: only a size limit stops it. */
function huge(id: RequestId): Response {
  const encoder = new TextEncoder();
  const chunk = encoder.encode("x".repeat(1024 * 1024));
  let sent = 0;
  const stream = new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":"`));
    },
    pull(controller) {
      if (sent < HUGE_BYTES) {
        controller.enqueue(chunk);
        sent += chunk.byteLength;
      } else {
        controller.enqueue(encoder.encode(`"}]}}`));
        controller.close();
      }
    },
  });
  return new Response(stream, { headers: { "content-type": "application/json" } });
}
