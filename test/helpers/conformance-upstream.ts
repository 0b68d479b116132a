// An MCP server with the fixtures every server scenario of @modelcontextprotocol/conformance 0.1.16
// expects (its npm package does not ship one): the tools, resources, prompts, completion and logging
// the scenario code in its dist/ calls, by the names and with the answers it checks. Both eras:
// 2026-07-28 through createMcpHandler, 2025 clients (the suite's own) with a session each.
// Handlers that need the client's input are written once with inputRequired(): the SDK's legacy shim
// sends 2025 sessions real sampling/elicitation requests and feeds the answers back.
//
//   bun test/helpers/conformance-upstream.ts [port]   (prints the MCP URL, serves until stopped)
import {
  createMcpHandler,
  inputRequired,
  inputResponse,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  WebStandardStreamableHTTPServerTransport,
  type CallToolResult,
  type InputRequiredResult,
  type ServerContext,
  type Tool,
} from "@modelcontextprotocol/server";
import { PROMPTS, getPrompt } from "./conformance-prompts.ts";
import { RESOURCES, RESOURCE_TEMPLATES, readResource } from "./conformance-resources.ts";

export interface ConformanceUpstream {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  stop(): Promise<void>;
}

// 1x1 red PNG; a 1-sample silent WAV.
export const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV_BASE64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA==";

const noArguments = { type: "object", properties: {} } as const;

type Answer = CallToolResult | InputRequiredResult;
type Run = (args: Record<string, unknown>, ctx: ServerContext) => Answer | Promise<Answer>;
type FixtureTool = { definition: Tool; run: Run };

const text = (value: string) => ({ type: "text" as const, text: value });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What an elicitation answer was, in the words the scenarios ask for. */
function describeElicitation(ctx: ServerContext, key: string): string | null {
  const answer = inputResponse(ctx.mcpReq.inputResponses, key);
  if (answer.kind !== "elicit") return null;
  return `action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`;
}

const TOOLS: FixtureTool[] = [
  {
    definition: { name: "test_simple_text", description: "Returns simple text content.", inputSchema: noArguments },
    run: () => ({ content: [text("This is a simple text response for testing.")] }),
  },
  {
    definition: { name: "test_image_content", description: "Returns a PNG image.", inputSchema: noArguments },
    run: () => ({ content: [{ type: "image", data: PNG_BASE64, mimeType: "image/png" }] }),
  },
  {
    definition: { name: "test_audio_content", description: "Returns a WAV audio clip.", inputSchema: noArguments },
    run: () => ({ content: [{ type: "audio", data: WAV_BASE64, mimeType: "audio/wav" }] }),
  },
  {
    definition: { name: "test_embedded_resource", description: "Returns an embedded text resource.", inputSchema: noArguments },
    run: () => ({ content: [{ type: "resource", resource: { uri: "test://embedded-resource", mimeType: "text/plain", text: "This is an embedded resource content." } }] }),
  },
  {
    definition: { name: "test_multiple_content_types", description: "Returns text, an image and a resource.", inputSchema: noArguments },
    run: () => ({
      content: [
        text("Multiple content types test:"),
        { type: "image", data: PNG_BASE64, mimeType: "image/png" },
        { type: "resource", resource: { uri: "test://mixed-content-resource", mimeType: "application/json", text: JSON.stringify({ test: "data", value: 123 }) } },
      ],
    }),
  },
  {
    definition: { name: "test_tool_with_logging", description: "Sends three log messages while it runs.", inputSchema: noArguments },
    run: async (_, ctx) => {
      for (const [i, data] of ["Tool execution started", "Tool processing data", "Tool execution completed"].entries()) {
        if (i > 0) await sleep(50);
        await ctx.mcpReq.notify({ method: "notifications/message", params: { level: "info", logger: "conformance-upstream", data } });
      }
      return { content: [text("Tool with logging executed successfully")] };
    },
  },
  {
    definition: { name: "test_error_handling", description: "Always answers with a tool error.", inputSchema: noArguments },
    run: () => ({ isError: true, content: [text("This tool intentionally returns an error for testing")] }),
  },
  {
    definition: { name: "test_tool_with_progress", description: "Reports progress 0, 50 and 100 of 100.", inputSchema: noArguments },
    run: async (_, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (const [i, progress] of [0, 50, 100].entries()) {
        if (i > 0) await sleep(50);
        if (progressToken !== undefined) await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress, total: 100 } });
      }
      return { content: [text("Tool with progress executed successfully")] };
    },
  },
  {
    definition: {
      name: "test_sampling",
      description: "Asks the client's model to answer the prompt (sampling/createMessage).",
      inputSchema: { type: "object", properties: { prompt: { type: "string", description: "The prompt to send to the LLM" } }, required: ["prompt"] },
    },
    run: (args, ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, "sample");
      if (answer.kind === "sampling") {
        const content = answer.result.content;
        const said = !Array.isArray(content) && content.type === "text" ? content.text : JSON.stringify(content);
        return { content: [text(`LLM response: ${said}`)] };
      }
      const prompt = String(args.prompt ?? "");
      return inputRequired({ inputRequests: { sample: inputRequired.createMessage({ messages: [{ role: "user", content: text(prompt) }], maxTokens: 100 }) } });
    },
  },
  {
    definition: {
      name: "test_elicitation",
      description: "Asks the user for a username and an email (elicitation/create).",
      inputSchema: { type: "object", properties: { message: { type: "string", description: "The message to show the user" } }, required: ["message"] },
    },
    run: (args, ctx) => {
      const answer = describeElicitation(ctx, "user");
      if (answer !== null) return { content: [text(`User response: ${answer}`)] };
      const requestedSchema = {
        type: "object" as const,
        properties: { username: { type: "string" as const, description: "User's response" }, email: { type: "string" as const, description: "User's email address" } },
        required: ["username", "email"],
      };
      return inputRequired({ inputRequests: { user: inputRequired.elicit({ message: String(args.message ?? ""), requestedSchema }) } });
    },
  },
  {
    definition: { name: "test_elicitation_sep1034_defaults", description: "Elicits a form whose fields all have defaults (SEP-1034).", inputSchema: noArguments },
    run: (_, ctx) => {
      const answer = describeElicitation(ctx, "defaults");
      if (answer !== null) return { content: [text(`Elicitation completed: ${answer}`)] };
      const requestedSchema = {
        type: "object" as const,
        properties: {
          name: { type: "string" as const, description: "User name", default: "John Doe" },
          age: { type: "integer" as const, description: "User age", default: 30 },
          score: { type: "number" as const, description: "User score", default: 95.5 },
          status: { type: "string" as const, description: "User status", enum: ["active", "inactive", "pending"], default: "active" },
          verified: { type: "boolean" as const, description: "Verification status", default: true },
        },
      };
      return inputRequired({ inputRequests: { defaults: inputRequired.elicit({ message: "Please review and update the form fields with defaults", requestedSchema }) } });
    },
  },
  {
    definition: { name: "test_elicitation_sep1330_enums", description: "Elicits a form with every enum variant (SEP-1330).", inputSchema: noArguments },
    run: (_, ctx) => {
      const answer = describeElicitation(ctx, "enums");
      if (answer !== null) return { content: [text(`Elicitation completed: ${answer}`)] };
      const requestedSchema = {
        type: "object" as const,
        properties: {
          untitledSingle: { type: "string" as const, description: "Untitled single-select", enum: ["option1", "option2", "option3"] },
          titledSingle: {
            type: "string" as const,
            description: "Titled single-select",
            oneOf: [
              { const: "value1", title: "First Option" },
              { const: "value2", title: "Second Option" },
              { const: "value3", title: "Third Option" },
            ],
          },
          legacyEnum: { type: "string" as const, description: "Legacy titled enum", enum: ["opt1", "opt2", "opt3"], enumNames: ["Option One", "Option Two", "Option Three"] },
          untitledMulti: { type: "array" as const, description: "Untitled multi-select", items: { type: "string" as const, enum: ["option1", "option2", "option3"] } },
          titledMulti: {
            type: "array" as const,
            description: "Titled multi-select",
            items: {
              anyOf: [
                { const: "value1", title: "First Choice" },
                { const: "value2", title: "Second Choice" },
                { const: "value3", title: "Third Choice" },
              ],
            },
          },
        },
      };
      return inputRequired({ inputRequests: { enums: inputRequired.elicit({ message: "Please select options", requestedSchema }) } });
    },
  },
  {
    definition: {
      name: "json_schema_2020_12_tool",
      description: "Tool with JSON Schema 2020-12 features",
      inputSchema: {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        $defs: { address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } } },
        properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
        additionalProperties: false,
      },
    },
    run: (args) => ({ content: [text(`Received: ${JSON.stringify(args)}`)] }),
  },
  {
    // The suite's SSE-polling scenario (pending in 0.1.16) calls it; it answers at once here.
    definition: { name: "test_reconnection", description: "Answers after a short wait (SSE polling scenario).", inputSchema: noArguments },
    run: async () => {
      await sleep(50);
      return { content: [text("Reconnection test completed successfully")] };
    },
  },
];

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
