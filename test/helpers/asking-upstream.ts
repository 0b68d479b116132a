// An MCP server whose tools ask the client for something during the call (elicitation in form
// and URL mode, sampling, roots) and send log messages. The tools are written the 2026-07-28 way
// (they return input_required and read inputResponses on the retry); for 2025-era sessions the
// SDK's legacy shim turns that into server-initiated requests on the call's own stream, which is
// exactly what a 2025 server does. `era: "2025"` refuses 2026-07-28 requests the way a 2025-only
// server does, so a client falls back.
import {
  createMcpHandler,
  inputRequired,
  inputResponse,
  isInitializeRequest,
  isLegacyRequest,
  Server,
  WebStandardStreamableHTTPServerTransport,
  type CallToolResult,
  type LoggingLevel,
  type ServerContext,
  type Tool,
} from "@modelcontextprotocol/server";

export type AskingUpstreamOptions = { era?: "both" | "2025"; bearer?: string };

export type AskingUpstream = {
  url: string;
  /** Every JSON-RPC method the upstream received, in order (responses to its own requests excluded). */
  methods: string[];
  /** Every logging/setLevel level it was sent. */
  levels: LoggingLevel[];
  /** What came of the questions `ask_later` sent outside any call (2025 sessions only). */
  later: string[];
  stop(): Promise<void>;
};

const FORM_SCHEMA = { type: "object" as const, properties: { answer: { type: "string" as const } }, required: ["answer"] };

const TOOLS: Tool[] = [
  { name: "ask_form", description: "Asks the user a question (form elicitation) and returns the answer.", inputSchema: objectSchema({ question: { type: "string" } }, ["question"]) },
  { name: "ask_url", description: "Sends the user to a URL (URL elicitation) and returns their action.", inputSchema: objectSchema({ url: { type: "string" } }, ["url"]) },
  { name: "ask_sample", description: "Asks the client's model (sampling) and returns its text.", inputSchema: objectSchema({ prompt: { type: "string" } }, ["prompt"]) },
  { name: "ask_roots", description: "Lists the client's roots.", inputSchema: objectSchema({}) },
  { name: "ask_twice", description: "Asks two questions in two rounds.", inputSchema: objectSchema({}) },
  { name: "ask_later", description: "Answers at once, then asks a question and for the roots outside the call (2025 sessions).", inputSchema: objectSchema({}) },
  { name: "ask_both", description: "Asks a question and for the roots in one round.", inputSchema: objectSchema({}) },
  { name: "log_lines", description: "Sends one log message at each of debug, info and error, then answers.", inputSchema: objectSchema({ text: { type: "string" } }, ["text"]) },
];

export async function startAskingUpstream(options: AskingUpstreamOptions = {}): Promise<AskingUpstream> {
  const methods: string[] = [];
  const levels: LoggingLevel[] = [];
  const later: string[] = [];
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();

  function createServer(): Server {
    const server = new Server({ name: "asking-upstream", version: "1.0.0" }, { capabilities: { tools: {}, logging: {} } });
    server.setRequestHandler("tools/list", () => ({ tools: TOOLS }));
    server.setRequestHandler("tools/call", (request, ctx) => {
      if (request.params.name !== "ask_later") return runTool(request.params.name, (request.params.arguments ?? {}) as Record<string, string>, ctx) as never;
      // Unrelated to any request: a 2025 server sends these on its standalone stream.
      setTimeout(() => {
        const note = (what: string) => (value: unknown) => void later.push(`${what}: ${value instanceof Error ? `error ${value.message}` : JSON.stringify(value)}`);
        server.elicitInput({ message: "later?", requestedSchema: FORM_SCHEMA }).then(note("elicitation"), note("elicitation"));
        server.listRoots().then(note("roots"), note("roots"));
      }, 0);
      return text("asked later");
    });
    return server;
  }

  const modern = createMcpHandler(createServer, { legacy: "reject" });

  async function serveLegacy(request: Request, body: unknown): Promise<Response> {
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId !== null) {
      const transport = sessions.get(sessionId);
      if (!transport) return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } }, { status: 404 });
      return transport.handleRequest(request, { parsedBody: body });
    }
    if (request.method !== "POST" || !isInitializeRequest(body)) return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32000, message: "Bad Request: Server not initialized" } }, { status: 400 });
    const server = createServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, transport),
      onsessionclosed: (id) => void sessions.delete(id),
    });
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody: body });
  }

  const http = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 255,
    async fetch(request) {
      if (options.bearer && request.headers.get("authorization") !== `Bearer ${options.bearer}`) return new Response("unauthorized", { status: 401 });
      const body = request.method === "POST" ? await request.clone().json().catch(() => undefined) : undefined;
      for (const message of Array.isArray(body) ? body : [body]) {
        if (typeof message?.method !== "string") continue;
        methods.push(message.method);
        // The SDK's own handler keeps the level (and filters by it); the fixture only notes it.
        if (message.method === "logging/setLevel") levels.push(message.params?.level);
      }
      if (await isLegacyRequest(request, body)) return serveLegacy(request, body);
      // What a 2025-only server answers to a request it cannot place: the client falls back.
      if (options.era === "2025") return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32000, message: "Bad Request: Server not initialized" } }, { status: 400 });
      return modern.fetch(request, { parsedBody: body });
    },
  });

  return {
    url: `http://127.0.0.1:${http.port}/mcp`,
    methods,
    levels,
    later,
    async stop() {
      await http.stop(true);
      await modern.close();
      await Promise.all([...sessions.values()].map((t) => t.close().catch(() => undefined)));
    },
  };
}

async function runTool(name: string, args: Record<string, string>, ctx: ServerContext): Promise<CallToolResult | ReturnType<typeof inputRequired>> {
  const responses = ctx.mcpReq.inputResponses;
  switch (name) {
    case "ask_form": {
      const answer = inputResponse(responses, "question");
      if (answer.kind === "missing") return inputRequired({ inputRequests: { question: inputRequired.elicit({ message: args.question ?? "", requestedSchema: FORM_SCHEMA }) } });
      return text(`form: ${JSON.stringify(answer)}`);
    }
    case "ask_url": {
      const answer = inputResponse(responses, "visit");
      if (answer.kind === "missing") return inputRequired({ inputRequests: { visit: inputRequired.elicitUrl({ message: "Please sign in", url: args.url ?? "https://example.com" }) } });
      return text(`url: ${answer.kind === "elicit" ? answer.action : answer.kind}`);
    }
    case "ask_sample": {
      const answer = inputResponse(responses, "model");
      if (answer.kind === "missing") {
        return inputRequired({ inputRequests: { model: inputRequired.createMessage({ messages: [{ role: "user", content: { type: "text", text: args.prompt ?? "" } }], maxTokens: 50 }) } });
      }
      const content = answer.kind === "sampling" ? (answer.result as { content?: { text?: string } }).content : undefined;
      return text(`sample: ${content?.text ?? answer.kind}`);
    }
    case "ask_roots": {
      const answer = inputResponse(responses, "roots");
      if (answer.kind === "missing") return inputRequired({ inputRequests: { roots: inputRequired.listRoots() } });
      return text(`roots: ${answer.kind === "roots" ? answer.roots.map((r) => r.uri).join(",") : answer.kind}`);
    }
    case "ask_twice": {
      // The first answer rides in requestState, as a 2026 server keeps what it learned between rounds.
      const state = ctx.mcpReq.requestState<string>();
      const first = inputResponse(responses, "first");
      if (state === undefined && first.kind === "missing") return inputRequired({ inputRequests: { first: inputRequired.elicit({ message: "first?", requestedSchema: FORM_SCHEMA }) } });
      if (state === undefined) {
        const firstAnswer = first.kind === "elicit" ? String(first.content?.answer) : "none";
        return inputRequired({ inputRequests: { second: inputRequired.elicit({ message: "second?", requestedSchema: FORM_SCHEMA }) }, requestState: JSON.stringify({ first: firstAnswer }) });
      }
      const second = inputResponse(responses, "second");
      return text(`twice: ${(JSON.parse(state) as { first: string }).first} then ${second.kind === "elicit" ? String(second.content?.answer) : "none"}`);
    }
    case "ask_both": {
      const answer = inputResponse(responses, "question");
      const roots = inputResponse(responses, "roots");
      if (answer.kind === "missing" || roots.kind === "missing") {
        return inputRequired({ inputRequests: { question: inputRequired.elicit({ message: "both?", requestedSchema: FORM_SCHEMA }), roots: inputRequired.listRoots() } });
      }
      return text(`both: ${answer.kind === "elicit" ? String(answer.content?.answer) : answer.kind} / roots: ${roots.kind === "roots" ? roots.roots.length : roots.kind}`);
    }
    case "log_lines": {
      for (const level of ["debug", "info", "error"] as const) await ctx.mcpReq.log(level, { text: `${level}: ${args.text}` }, "fixture");
      return text("logged");
    }
    default:
      return { content: [{ type: "text", text: `unknown tool ${name}` }], isError: true };
  }
}

function text(value: string): CallToolResult {
  return { content: [{ type: "text", text: value }] };
}

function objectSchema(properties: Record<string, unknown>, required: string[] = []): Tool["inputSchema"] {
  return { type: "object", properties, ...(required.length > 0 ? { required } : {}) } as Tool["inputSchema"];
}
