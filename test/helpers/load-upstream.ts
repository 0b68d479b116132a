// An SDK upstream behind a Bun.serve wrapper that can see what the gateway leaves open: it counts
// the tools/call requests it holds ("hang"), can answer every tools/call with an HTTP status and a
// Retry-After, can flap, and can refuse the 2026 handshake so that the gateway speaks 2025 to it.
import type { Server } from "bun";
import { createUpstreamHandler, type UpstreamHandler } from "./upstream.ts";

/** "gate": each tools/call is held until `openGate()`, then answered as in "ok" mode. */
export type LoadMode = { kind: "ok" } | { kind: "hang" } | { kind: "gate" } | { kind: "status"; status: number; retryAfter?: string } | { kind: "flap" };

export interface LoadUpstream {
  url: string;
  mode: LoadMode;
  /** tools/call requests that reached the server, whatever the mode. */
  readonly toolCalls: number;
  /** tools/call requests held open right now (hang mode); one goes when the gateway closes it. */
  readonly hanging: number;
  /** The most tools/call requests held open at once. */
  readonly peakHanging: number;
  healthy: UpstreamHandler;
  /** Answers every call held by "gate" mode, and those that arrive later ("ok" mode from then on). */
  openGate(): void;
  stop(): Promise<void>;
}

export async function startLoadUpstream(options: { era?: "2026" | "2025"; mode?: LoadMode } = {}): Promise<LoadUpstream> {
  const healthy = createUpstreamHandler({ name: "load-upstream", tools: ["echo"] });
  let toolCalls = 0;
  let hanging = 0;
  let peakHanging = 0;
  let flap = 0;
  let opened = Promise.withResolvers<void>();
  const server: Server<undefined> = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 255, fetch });
  const upstream: LoadUpstream = {
    url: `http://127.0.0.1:${server.port}/mcp`,
    mode: options.mode ?? { kind: "ok" },
    get toolCalls() {
      return toolCalls;
    },
    get hanging() {
      return hanging;
    },
    get peakHanging() {
      return peakHanging;
    },
    healthy,
    openGate() {
      upstream.mode = { kind: "ok" };
      opened.resolve();
      opened = Promise.withResolvers<void>();
    },
    async stop() {
      await server.stop(true);
      await healthy.close();
    },
  };

  async function fetch(request: Request): Promise<Response> {
    const method = request.method === "POST" ? await rpcMethod(request) : { name: "", id: undefined };
    if (method.name === "server/discover" && options.era === "2025") {
      return Response.json({ jsonrpc: "2.0", id: method.id ?? null, error: { code: -32601, message: "Method not found" } });
    }
    if (method.name !== "tools/call") return healthy.fetch(request);
    toolCalls++;
    const mode = upstream.mode;
    if (mode.kind === "hang") return hold(request);
    if (mode.kind === "gate") {
      await opened.promise;
      return healthy.fetch(request);
    }
    if (mode.kind === "status") {
      const headers: Record<string, string> = { "content-type": "text/plain", ...(mode.retryAfter ? { "retry-after": mode.retryAfter } : {}) };
      return new Response(`HTTP ${mode.status}`, { status: mode.status, headers });
    }
    if (mode.kind === "flap" && flap++ % 2 === 1) return new Response("HTTP 500", { status: 500 });
    return healthy.fetch(request);
  }

  function hold(request: Request): Promise<Response> {
    hanging++;
    peakHanging = Math.max(peakHanging, hanging);
    return new Promise((resolve) => {
      request.signal.addEventListener(
        "abort",
        () => {
          hanging--;
          resolve(new Response(null, { status: 499 }));
        },
        { once: true },
      );
    });
  }

  return upstream;
}

async function rpcMethod(request: Request): Promise<{ name: string; id: unknown }> {
  const body: unknown = await request
    .clone()
    .json()
    .catch(() => undefined);
  const first = (Array.isArray(body) ? body : [body]).find((m) => typeof m?.method === "string" && m.id !== undefined) as { method: string; id: unknown } | undefined;
  return { name: first?.method ?? "", id: first?.id };
}
