// An MCP server with the fixtures every server scenario of @modelcontextprotocol/conformance 0.1.16
// expects (its npm package does not ship one): the tools, resources, prompts, completion and logging
// the scenario code in its dist/ calls, by the names and with the answers it checks. Both eras:
// 2026-07-28 through createMcpHandler, 2025 clients (the suite's own) with a session each.
// Tools that need the client's input are written once with inputRequired() (conformance-tools.ts).
//
//   bun test/helpers/conformance-upstream.ts [port]   (prints the MCP URL, serves until stopped)
import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/server";
import { PROMPTS, getPrompt } from "./conformance-prompts.ts";
import { TOOLS } from "./conformance-tools.ts";
import { RESOURCES, RESOURCE_TEMPLATES, readResource } from "./conformance-resources.ts";

export interface ConformanceUpstream {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  stop(): Promise<void>;
}

const COMPLETIONS: Record<string, string[]> = { arg1: ["paris", "park", "party"], arg2: ["world", "word", "work"] };

function createServer(): Server {
  const server = new Server(
    { name: "conformance-upstream", version: "1.0.0" },
    { capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, completions: {}, logging: {} } },
  );
  const subscribed = new Set<string>();
  server.setRequestHandler("tools/list", () => ({ tools: TOOLS.map((tool) => tool.definition) }));
  server.setRequestHandler("tools/call", async (request, ctx) => {
    const tool = TOOLS.find((candidate) => candidate.definition.name === request.params.name);
    if (!tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    return tool.run(request.params.arguments ?? {}, ctx);
  });
  server.setRequestHandler("resources/list", () => ({ resources: RESOURCES }));
  server.setRequestHandler("resources/templates/list", () => ({ resourceTemplates: RESOURCE_TEMPLATES }));
  server.setRequestHandler("resources/read", (request) => readResource(request.params.uri));
  server.setRequestHandler("resources/subscribe", (request) => {
    subscribed.add(request.params.uri);
    return {};
  });
  server.setRequestHandler("resources/unsubscribe", (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
  server.setRequestHandler("prompts/list", () => ({ prompts: PROMPTS }));
  server.setRequestHandler("prompts/get", (request) => getPrompt(request.params.name, request.params.arguments ?? {}));
  server.setRequestHandler("completion/complete", (request) => {
    const { argument } = request.params;
    const values = (COMPLETIONS[argument.name] ?? []).filter((value) => value.startsWith(argument.value));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  server.setRequestHandler("logging/setLevel", () => ({}));
  return server;
}

/** The fixture without a socket. */
export function createConformanceHandler(): { fetch(request: Request): Promise<Response>; close(): Promise<void> } {
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const modern = createMcpHandler(createServer, { legacy: "reject" });
  const stateless = legacyStatelessFallback(createServer);

  async function serveLegacy(request: Request, body: unknown): Promise<Response> {
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId !== null) {
      const transport = sessions.get(sessionId);
      if (!transport) return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } }, { status: 404 });
      return transport.handleRequest(request, body === undefined ? {} : { parsedBody: body });
    }
    if (request.method !== "POST" || !isInitializeRequest(body)) return stateless(request, body === undefined ? {} : { parsedBody: body });
    const server = createServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, transport),
      onsessionclosed: (id) => void sessions.delete(id),
    });
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody: body });
  }

  return {
    async fetch(request) {
      if (new URL(request.url).pathname !== "/mcp") return new Response("Not found", { status: 404 });
      // A local server without authentication refuses other names (the suite's DNS-rebinding scenario).
      if (!isLoopbackHost(request.headers.get("host")) || !isLoopbackOrigin(request.headers.get("origin"))) {
        return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32000, message: "Forbidden: not a local Host or Origin" } }, { status: 403 });
      }
      const body = request.method === "POST" ? await request.json().catch(() => undefined) : undefined;
      const parsed = body === undefined ? {} : { parsedBody: body };
      if (await isLegacyRequest(request, body)) return serveLegacy(request, body);
      return modern.fetch(request, parsed);
    },
    async close() {
      await modern.close();
      await Promise.all([...sessions.values()].map((transport) => transport.close()));
      sessions.clear();
    },
  };
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

function isLoopbackHost(host: string | null): boolean {
  if (host === null) return true;
  return LOOPBACK.has(host.replace(/:\d+$/, "").toLowerCase());
}

function isLoopbackOrigin(origin: string | null): boolean {
  if (origin === null) return true;
  try {
    return LOOPBACK.has(new URL(origin).hostname.toLowerCase());
  } catch {
    return false;
  }
}

export async function startConformanceUpstream(port = 0): Promise<ConformanceUpstream> {
  const handler = createConformanceHandler();
  // Calls and 2025 GET streams stay open past Bun's 10 s default.
  const server = Bun.serve({ hostname: "127.0.0.1", port, idleTimeout: 255, fetch: handler.fetch });
  return {
    url: `http://127.0.0.1:${server.port}/mcp`,
    async stop() {
      await server.stop(true);
      await handler.close();
    },
  };
}

if (import.meta.main) {
  const upstream = await startConformanceUpstream(Number(process.argv[2] ?? 0));
  console.log(upstream.url);
}
