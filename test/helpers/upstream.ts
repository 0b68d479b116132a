// A real MCP server for tests: serves 2026-07-28 clients through
// createMcpHandler and 2025-era clients through sessionful streamable HTTP,
// so both eras can hear notifications/tools/list_changed.
import {
  createMcpHandler,
  fromJsonSchema,
  InMemoryServerEventBus,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  WebStandardStreamableHTTPServerTransport,
  type CallToolResult,
  type JSONObject,
  type JsonSchemaType,
  type ListToolsResult,
  type ServerContext,
  type Tool,
} from "@modelcontextprotocol/server";

export type UpstreamAuth =
  | { kind: "none" }
  | { kind: "bearer"; token: string }
  /** Any of these tokens (per-member connections: each member has their own). */
  | { kind: "bearers"; tokens: string[] }
  | { kind: "header"; header: string; value: string };

export interface UpstreamOptions {
  auth?: UpstreamAuth;
  /** Built-in tools to expose; default all of them. */
  tools?: string[];
  /** Adds simple tools `tool_0..tool_N-1`, to make pagination worth testing. */
  extraToolCount?: number;
  /** Page size for tools/list; default one page. */
  pageSize?: number;
  name?: string;
}

/** One JSON-RPC message (request or notification) as the upstream received it, refused ones included. */
export interface ReceivedRequest {
  authorization: string | null;
  headers: Record<string, string>;
  method: string;
  /** The message's `params._meta`, if it had one. */
  meta?: Record<string, unknown>;
}

/** The live state of a fixture; counters and lists update as traffic arrives. */
export interface UpstreamState {
  requests: ReceivedRequest[];
  /** tools/call requests that reached a handler (refused ones are not counted). */
  calls: number;
  /** Names of tools whose call was cancelled (or abandoned) by the client. */
  cancelled: string[];
  /** Replace the tool list (built-in names, or any other name for a simple tool), then notify list_changed. */
  setTools(names: string[]): void;
  /** Send notifications/tools/list_changed on every open stream, without changing anything. */
  notifyToolsChanged(): void;
  /** Streams that would hear list_changed now: 2026 subscriptions/listen plus 2025 GET streams. */
  openStreams(): number;
}

/** The fixture without a socket, for servers that wrap it (see faulty-upstream.ts). */
export interface UpstreamHandler extends UpstreamState {
  fetch(request: Request): Promise<Response>;
  close(): Promise<void>;
}

export interface Upstream extends UpstreamState {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  stop(): Promise<void>;
}

export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const handler = createUpstreamHandler(options);
  // Calls that hang wait for a cancel, not for Bun's 10 s idle limit.
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 255, fetch: handler.fetch });
  // Cut connections first, so a client mid-call sees the drop rather than a cleanly ended stream.
  async function stop(): Promise<void> {
    await server.stop(true);
    await handler.close();
  }
  return Object.assign(handler, { url: `http://127.0.0.1:${server.port}/mcp`, stop });
}

export function createUpstreamHandler(options: UpstreamOptions = {}): UpstreamHandler {
  const extra = Array.from({ length: options.extraToolCount ?? 0 }, (_, i) => `tool_${i}`);
  let toolNames = [...(options.tools ?? builtinToolNames), ...extra];
  const info = { name: options.name ?? "fixture-upstream", version: "1.0.0" };
  const sessions = new Map<string, { transport: WebStandardStreamableHTTPServerTransport; server: Server }>();
  const bus = new InMemoryServerEventBus();
  let legacyStreams = 0;

  const state: UpstreamHandler = {
    requests: [],
    calls: 0,
    cancelled: [],
    setTools(names) {
      toolNames = [...names];
      state.notifyToolsChanged();
    },
    notifyToolsChanged() {
      modern.notify.toolsChanged();
      for (const session of sessions.values()) session.server.sendToolListChanged().catch(() => {});
    },
    openStreams: () => bus.listenerCount + legacyStreams,
    fetch,
    close,
  };

  function createServer(): Server {
    const server = new Server(info, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler("tools/list", (request) => listTools(toolNames, request.params?.cursor, options.pageSize));
    server.setRequestHandler("tools/call", async (request, ctx) => {
      state.calls++;
      const { name, arguments: args } = request.params;
      if (!toolNames.includes(name)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
      const tool = resolveTool(name);
      const result = await tool.run(args ?? {}, ctx);
      if (ctx.mcpReq.signal.aborted) state.cancelled.push(name);
      return server.projectCallToolResult(result, tool.definition.outputSchema);
    });
    return server;
  }

  const modern = createMcpHandler(createServer, { legacy: "reject", bus });
  const stateless = legacyStatelessFallback(createServer);

  // 2025 clients get a session (and so a GET stream for list_changed);
  // session-less 2025 requests other than initialize are served statelessly.
  async function serveLegacy(request: Request, body: unknown): Promise<Response> {
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (session === undefined) return jsonRpcError(404, -32001, "Session not found");
      const response = await session.transport.handleRequest(request);
      if (request.method === "GET" && response.ok) countStream(request);
      return response;
    }
    if (request.method !== "POST" || !isInitializeRequest(body)) return stateless(request);
    const server = createServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, { transport, server }),
      onsessionclosed: (id) => void sessions.delete(id),
    });
    await server.connect(transport);
    return transport.handleRequest(request);
  }

  // Bun aborts a request's signal when its client goes away, which for a
  // GET stream is how it ends (the server ends it only on close()).
  function countStream(request: Request): void {
    legacyStreams++;
    request.signal.addEventListener("abort", () => legacyStreams--, { once: true });
  }

  async function fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== "/mcp") return new Response("Not found", { status: 404 });
    const body = await readJson(request);
    recordMessages(request, body);
    if (!isAuthorized(request, options.auth ?? { kind: "none" })) return unauthorized();
    if (await isLegacyRequest(request)) return serveLegacy(request, body);
    return modern.fetch(request);
  }

  function recordMessages(request: Request, body: unknown): void {
    const headers = Object.fromEntries(request.headers);
    const authorization = request.headers.get("authorization");
    for (const message of Array.isArray(body) ? body : [body]) {
      if (typeof message?.method === "string") state.requests.push({ authorization, headers, method: message.method, ...(message.params?._meta ? { meta: message.params._meta } : {}) });
    }
  }

  async function close(): Promise<void> {
    await modern.close();
    await Promise.all([...sessions.values()].map((session) => session.transport.close()));
    sessions.clear();
  }

  return state;
}

function listTools(names: string[], cursor: string | undefined, pageSize: number | undefined): ListToolsResult {
  const tools = names.map((name) => resolveTool(name).definition);
  if (pageSize === undefined) return { tools };
  const start = cursor === undefined ? 0 : Number(cursor);
  if (!Number.isInteger(start) || start < 0 || start > tools.length) {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid cursor: ${cursor}`);
  }
  const end = start + pageSize;
  return { tools: tools.slice(start, end), ...(end < tools.length && { nextCursor: String(end) }) };
}

function isAuthorized(request: Request, auth: UpstreamAuth): boolean {
  switch (auth.kind) {
    case "none":
      return true;
    case "bearer":
      return request.headers.get("authorization") === `Bearer ${auth.token}`;
    case "bearers":
      return auth.tokens.some((token) => request.headers.get("authorization") === `Bearer ${token}`);
    case "header":
      return request.headers.get(auth.header) === auth.value;
  }
}

function unauthorized(): Response {
  return new Response(JSON.stringify({ error: "invalid_token" }), {
    status: 401,
    headers: { "content-type": "application/json", "www-authenticate": 'Bearer error="invalid_token"' },
  });
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", id: null, error: { code, message } }, { status });
}

async function readJson(request: Request): Promise<unknown> {
  if (request.method !== "POST") return undefined;
  try {
    return await request.clone().json();
  } catch {
    return undefined;
  }
}

// ---- Tools ----------------------------------------------------------------

interface FixtureTool {
  definition: Tool;
  run(args: unknown, ctx: ServerContext): Promise<CallToolResult>;
}

export const builtinToolNames = ["echo", "add", "progress", "slow", "hang", "fail", "throw", "image"];

const toolCache = new Map<string, FixtureTool>();

/** A built-in tool, or for any other name a simple tool answering "NAME ok". */
function resolveTool(name: string): FixtureTool {
  let tool = toolCache.get(name);
  if (tool === undefined) {
    tool = builtinTool(name) ?? simpleTool(name);
    toolCache.set(name, tool);
  }
  return tool;
}

// 1x1 transparent PNG.
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

function builtinTool(name: string): FixtureTool | undefined {
  switch (name) {
    case "echo":
      return defineTool<{ message: string }>(
        {
          name,
          description: "Echoes the message back as text and as structured content.",
          inputSchema: objectSchema({ message: { type: "string", description: "Text to echo" } }, ["message"]),
          outputSchema: objectSchema({ message: { type: "string" } }, ["message"]),
        },
        ({ message }) => ({ content: [text(message)], structuredContent: { message } }),
      );
    case "add":
      return defineTool<{ a: number; b: number }>(
        {
          name,
          description: "Adds two numbers.",
          inputSchema: objectSchema({ a: { type: "number" }, b: { type: "number" } }, ["a", "b"]),
        },
        ({ a, b }) => ({ content: [text(String(a + b))] }),
      );
    case "progress":
      return defineTool<{ steps: number; delayMs?: number }>(
        {
          name,
          description: "Sends `steps` progress notifications (when asked for progress), then answers done.",
          inputSchema: objectSchema(
            { steps: { type: "integer", minimum: 0 }, delayMs: { type: "integer", minimum: 0 } },
            ["steps"],
          ),
        },
        async ({ steps, delayMs = 0 }, ctx) => {
          const progressToken = ctx.mcpReq._meta?.progressToken;
          for (let progress = 1; progress <= steps; progress++) {
            if (progressToken !== undefined) {
              await ctx.mcpReq.notify({
                method: "notifications/progress",
                params: { progressToken, progress, total: steps, message: `step ${progress}` },
              });
            }
            if (await waitUnlessAborted(ctx.mcpReq.signal, delayMs)) break;
          }
          return { content: [text("done")] };
        },
      );
    case "slow":
      return defineTool<{ ms: number }>(
        {
          name,
          description: "Waits `ms` milliseconds, unless cancelled.",
          inputSchema: objectSchema({ ms: { type: "integer", minimum: 0 } }, ["ms"]),
        },
        async ({ ms }, ctx) => {
          const cancelled = await waitUnlessAborted(ctx.mcpReq.signal, ms);
          return { content: [text(cancelled ? "cancelled" : `slept ${ms} ms`)] };
        },
      );
    case "hang":
      return defineTool<object>(
        { name, description: "Never answers until cancelled.", inputSchema: objectSchema({}) },
        async (_, ctx) => {
          await waitUnlessAborted(ctx.mcpReq.signal);
          return { content: [text("cancelled")] };
        },
      );
    case "fail":
      return defineTool<object>(
        { name, description: "Returns a tool error result.", inputSchema: objectSchema({}) },
        () => ({ content: [text("it failed on purpose")], isError: true }),
      );
    case "throw":
      // The low-level Server answers a throwing handler with a JSON-RPC error
      // (-32603, the error's message), not with an isError result.
      return defineTool<object>(
        { name, description: "Throws inside the handler.", inputSchema: objectSchema({}) },
        () => {
          throw new Error("it threw on purpose");
        },
      );
    case "image":
      return defineTool<object>(
        { name, description: "Returns a tiny PNG and a caption.", inputSchema: objectSchema({}) },
        () => ({ content: [{ type: "image", data: PNG_BASE64, mimeType: "image/png" }, text("a 1x1 PNG")] }),
      );
    default:
      return undefined;
  }
}

function simpleTool(name: string): FixtureTool {
  return defineTool<object>(
    { name, description: `Simple fixture tool ${name}.`, inputSchema: objectSchema({}) },
    () => ({ content: [text(`${name} ok`)] }),
  );
}

/** Validates arguments against the advertised input schema, as McpServer would: a mismatch is a tool error. */
function defineTool<Args>(
  definition: Tool,
  run: (args: Args, ctx: ServerContext) => CallToolResult | Promise<CallToolResult>,
): FixtureTool {
  // The SDK types a tool's inputSchema as JSON and fromJsonSchema's argument as a JSON Schema: same value.
  const schema = fromJsonSchema<Args>(definition.inputSchema as JsonSchemaType);
  return {
    definition,
    async run(args, ctx) {
      const checked = await schema["~standard"].validate(args);
      if (checked.issues !== undefined) {
        const reasons = checked.issues.map((issue) => issue.message).join("; ");
        return { content: [text(`Invalid arguments for tool ${definition.name}: ${reasons}`)], isError: true };
      }
      return run(checked.value, ctx);
    },
  };
}

function objectSchema(properties: Record<string, JSONObject>, required: string[] = []): Tool["inputSchema"] {
  return { type: "object", properties, required, additionalProperties: false };
}

function text(value: string): { type: "text"; text: string } {
  return { type: "text", text: value };
}

/** Resolves true when the signal aborts first, false after `ms` (never, without `ms`). */
function waitUnlessAborted(signal: AbortSignal, ms?: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(true);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer =
      ms === undefined
        ? undefined
        : setTimeout(() => {
            signal.removeEventListener("abort", onAbort);
            resolve(false);
          }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
