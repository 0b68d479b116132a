// A real MCP server whose definitions a test rewrites: full tool definitions (description, schema,
// annotations), prompts and resource templates, each list replaced whole and announced with
// list_changed. 2026-07-28 clients through createMcpHandler, 2025-era clients through sessions.
import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  WebStandardStreamableHTTPServerTransport,
  type Prompt,
  type ResourceTemplateType,
  type Tool,
} from "@modelcontextprotocol/server";

export type GovernedLists = { tools: Tool[]; prompts: Prompt[]; templates: ResourceTemplateType[] };

export interface GovernedUpstream {
  url: string;
  /** Names of the tools, prompts and resources the upstream was asked to run, get or read, in order. */
  ran: string[];
  /** Replaces the lists given and says list_changed for each. */
  change(update: Partial<GovernedLists>): void;
  stop(): Promise<void>;
}

export async function startGovernedUpstream(initial: GovernedLists): Promise<GovernedUpstream> {
  const lists: GovernedLists = { tools: [...initial.tools], prompts: [...initial.prompts], templates: [...initial.templates] };
  const ran: string[] = [];
  const sessions = new Map<string, { transport: WebStandardStreamableHTTPServerTransport; server: Server }>();

  function createServer(): Server {
    const server = new Server({ name: "governed", version: "1.0.0" }, { capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true } } });
    server.setRequestHandler("tools/list", () => ({ tools: lists.tools }));
    server.setRequestHandler("tools/call", (request) => {
      const { name } = request.params;
      if (!lists.tools.some((tool) => tool.name === name)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
      ran.push(name);
      return { content: [{ type: "text", text: `ran ${name}` }] };
    });
    server.setRequestHandler("prompts/list", () => ({ prompts: lists.prompts }));
    server.setRequestHandler("prompts/get", (request) => {
      const { name } = request.params;
      if (!lists.prompts.some((prompt) => prompt.name === name)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
      ran.push(name);
      return { messages: [{ role: "user", content: { type: "text", text: `prompt ${name}` } }] };
    });
    server.setRequestHandler("resources/list", () => ({ resources: [] }));
    server.setRequestHandler("resources/templates/list", () => ({ resourceTemplates: lists.templates }));
    server.setRequestHandler("resources/read", (request) => {
      ran.push(request.params.uri);
      return { contents: [{ uri: request.params.uri, text: `read ${request.params.uri}` }] };
    });
    return server;
  }

  const modern = createMcpHandler(createServer, { legacy: "reject" });
  const stateless = legacyStatelessFallback(createServer);

  async function serveLegacy(request: Request, body: unknown): Promise<Response> {
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (session === undefined) return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } }, { status: 404 });
      return session.transport.handleRequest(request);
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

  const http = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 255,
    async fetch(request) {
      if (new URL(request.url).pathname !== "/mcp") return new Response("Not found", { status: 404 });
      const body = request.method === "POST" ? await request.clone().json().catch(() => undefined) : undefined;
      if (await isLegacyRequest(request)) return serveLegacy(request, body);
      return modern.fetch(request);
    },
  });

  return {
    url: `http://127.0.0.1:${http.port}/mcp`,
    ran,
    change(update) {
      if (update.tools) {
        lists.tools = [...update.tools];
        modern.notify.toolsChanged();
        for (const s of sessions.values()) void s.server.sendToolListChanged().catch(() => undefined);
      }
      if (update.prompts) {
        lists.prompts = [...update.prompts];
        modern.notify.promptsChanged();
        for (const s of sessions.values()) void s.server.sendPromptListChanged().catch(() => undefined);
      }
      if (update.templates) {
        lists.templates = [...update.templates];
        modern.notify.resourcesChanged();
        for (const s of sessions.values()) void s.server.sendResourceListChanged().catch(() => undefined);
      }
    },
    async stop() {
      await http.stop(true);
      await modern.close();
      await Promise.all([...sessions.values()].map((s) => s.transport.close()));
    },
  };
}
