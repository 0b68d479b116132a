// An SDK upstream whose tools use every field a tool may carry (icons, _meta, title, annotations,
// outputSchema, execution), and whose calls exercise what a relay can lose: a JSON-RPC error with
// data, progress past a deadline, the request's _meta, tasks. Serves both eras statelessly.
import { createMcpHandler, ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type ServerCapabilities, type Tool } from "@modelcontextprotocol/server";

export const FAITHFUL_INSTRUCTIONS = "Call rich first. Never call long without a reason.";

/** Every optional field of a tool, with values a relay could drop or reshape. */
export const RICH_TOOL: Tool = {
  name: "rich",
  title: "Rich Tool",
  description: "A tool that carries every optional field.",
  inputSchema: { type: "object", properties: { q: { type: "string" } }, additionalProperties: false },
  outputSchema: { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] },
  annotations: { title: "Rich (annotation title)", readOnlyHint: true, openWorldHint: false },
  icons: [{ src: "https://example.com/rich.png", mimeType: "image/png", sizes: ["48x48"] }],
  execution: { taskSupport: "optional" },
  _meta: { "example.com/owner": "team-a", ui: { resourceUri: "ui://rich/app.html" } },
};

const TOOLS: Tool[] = [
  RICH_TOOL,
  { name: "rpc_error", description: "Answers with a JSON-RPC error that carries data.", inputSchema: { type: "object" } },
  {
    name: "long",
    description: "Reports progress every `everyMs` for `steps` steps, then waits `stallMs` silently, then answers.",
    inputSchema: { type: "object", properties: { steps: { type: "integer" }, everyMs: { type: "integer" }, stallMs: { type: "integer" } }, required: ["steps", "everyMs"] },
  },
  { name: "meta_echo", description: "Answers with the _meta of the request it received.", inputSchema: { type: "object" } },
];

export const RPC_ERROR = { code: -32050, message: "the fixture refused: quota exceeded", data: { retryAfterSeconds: 30, detail: "per-user quota" } };

export type FaithfulUpstream = {
  url: string;
  /** The _meta of every tools/call, as received. */
  metas: Record<string, unknown>[];
  stop(): Promise<void>;
};

const APP_URI = "ui://rich/app.html";
const APP_MIME = "text/html;profile=mcp-app";

export async function startFaithfulUpstream(options: { capabilities?: ServerCapabilities; instructions?: string } = {}): Promise<FaithfulUpstream> {
  const metas: Record<string, unknown>[] = [];
  const create = (): Server => {
    const server = new Server(
      { name: "faithful-upstream", version: "1.0.0" },
      { capabilities: { tools: { listChanged: true }, resources: {}, ...options.capabilities }, instructions: options.instructions ?? FAITHFUL_INSTRUCTIONS },
    );
    server.setRequestHandler("tools/list", () => ({ tools: TOOLS }));
    // The MCP App that the rich tool's _meta names (ui.resourceUri).
    server.setRequestHandler("resources/list", () => ({ resources: [{ uri: APP_URI, name: "rich app", mimeType: APP_MIME }] }));
    server.setRequestHandler("resources/read", (request) => {
      if (request.params.uri !== APP_URI) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Resource not found: ${request.params.uri}`);
      return { contents: [{ uri: APP_URI, mimeType: APP_MIME, text: "<p>the rich tool's app</p>" }] };
    });
    server.setRequestHandler("tools/call", async (request, ctx): Promise<CallToolResult> => {
      const { name, arguments: args = {} } = request.params;
      metas.push({ ...request.params._meta });
      switch (name) {
        case "rich":
          return { content: [{ type: "text", text: "rich answer" }], structuredContent: { answer: "rich answer" } };
        case "rpc_error":
          throw new ProtocolError(RPC_ERROR.code, RPC_ERROR.message, RPC_ERROR.data);
        case "meta_echo":
          return { content: [{ type: "text", text: JSON.stringify(request.params._meta ?? {}) }] };
        case "long": {
          const { steps, everyMs, stallMs = 0 } = args as { steps: number; everyMs: number; stallMs?: number };
          const progressToken = request.params._meta?.progressToken;
          for (let step = 1; step <= steps; step++) {
            await Bun.sleep(everyMs);
            if (ctx.mcpReq.signal.aborted) return { content: [{ type: "text", text: "cancelled" }] };
            if (progressToken !== undefined) await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress: step, total: steps } });
          }
          await Bun.sleep(stallMs);
          return { content: [{ type: "text", text: `finished ${steps} steps` }] };
        }
        default:
          throw new ProtocolError(-32602, `Unknown tool: ${name}`);
      }
    });
    return server;
  };
  const handler = createMcpHandler(create);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 255, fetch: (request) => handler.fetch(request) });
  return {
    url: `http://127.0.0.1:${server.port}/mcp`,
    metas,
    async stop() {
      await server.stop(true);
      await handler.close();
    },
  };
}
