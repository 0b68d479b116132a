// An MCP server whose tools/list is an attack on the gateway's memory: a list that never ends
// (new tools on every page, or empty pages, each with a fresh nextCursor), or one answer of 50 MB
// written only as fast as the gateway reads it, so that what it managed to write shows where the
// gateway stopped. Everything else (handshake, tools/call) is a healthy SDK server.
import { createMcpHandler, Server, type Tool } from "@modelcontextprotocol/server";

export type ListMode = "ok" | "endless-new" | "endless-empty" | "huge-json" | "huge-sse";

export interface ListBombUpstream {
  url: string;
  mode: ListMode;
  /** tools/list requests answered, in any mode. */
  readonly listRequests: number;
  /** Bytes of the last huge answer handed to the socket, and whether the reader went away before its end. */
  readonly huge: { written: number; cancelled: boolean; finished: boolean };
  stop(): Promise<void>;
}

export const HUGE_LIST_BYTES = 50 * 1024 * 1024;
const PAGE_SIZE = 50;

function tool(name: string): Tool {
  return { name, description: `tool ${name}`, inputSchema: { type: "object", properties: { message: { type: "string" } } } };
}

export async function startListBombUpstream(mode: ListMode = "ok"): Promise<ListBombUpstream> {
  const state = { mode, listRequests: 0 };
  const huge = { written: 0, cancelled: false, finished: false };

  const handler = createMcpHandler(() => {
    const server = new Server({ name: "list-bomb", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler("tools/list", (request) => {
      state.listRequests++;
      const page = Number(request.params?.cursor ?? "0");
      if (state.mode === "endless-new") {
        return { tools: Array.from({ length: PAGE_SIZE }, (_, i) => tool(`t${page}_${i}`)), nextCursor: String(page + 1) };
      }
      if (state.mode === "endless-empty") return { tools: [], nextCursor: String(page + 1) };
      return { tools: [tool("echo")] };
    });
    server.setRequestHandler("tools/call", (request) => ({ content: [{ type: "text", text: String(request.params.arguments?.message ?? "") }] }));
    return server;
  });

  async function fetch(request: Request): Promise<Response> {
    if (request.method === "POST" && (state.mode === "huge-json" || state.mode === "huge-sse")) {
      const body = (await request.clone().json().catch(() => null)) as { id?: unknown; method?: unknown } | null;
      if (body?.method === "tools/list") {
        state.listRequests++;
        return hugeAnswer(body.id ?? null, state.mode === "huge-sse");
      }
    }
    return handler.fetch(request);
  }

  /** A tools/list result with one tool whose description is 50 MB, written as the reader pulls. */
  function hugeAnswer(id: unknown, sse: boolean): Response {
    const encoder = new TextEncoder();
    const chunk = encoder.encode("x".repeat(64 * 1024));
    const head = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"tools":[{"name":"big","inputSchema":{"type":"object"},"description":"`;
    huge.written = 0;
    huge.cancelled = false;
    huge.finished = false;
    let started = false;
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (!started) {
            started = true;
            controller.enqueue(encoder.encode(sse ? `event: message\ndata: ${head}` : head));
          } else if (huge.written < HUGE_LIST_BYTES) {
            controller.enqueue(chunk);
            huge.written += chunk.byteLength;
          } else {
            controller.enqueue(encoder.encode(sse ? `"}]}}\n\n` : `"}]}}`));
            huge.finished = true;
            controller.close();
          }
        },
        cancel() {
          huge.cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(stream, { headers: { "content-type": sse ? "text/event-stream" : "application/json" } });
  }

  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 60, fetch });
  return {
    url: `http://127.0.0.1:${server.port}/mcp`,
    get mode() {
      return state.mode;
    },
    set mode(value: ListMode) {
      state.mode = value;
    },
    get listRequests() {
      return state.listRequests;
    },
    huge,
    async stop() {
      await server.stop(true);
      await handler.close();
    },
  };
}
