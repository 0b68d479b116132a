// A real MCP server with prompts, resources, resource templates, completions and resource
// subscriptions, for both eras: 2026-07-28 clients through createMcpHandler (resource changes on
// subscriptions/listen), 2025-era clients through sessions (resources/subscribe, GET streams).
import {
  createMcpHandler,
  InMemoryServerEventBus,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  WebStandardStreamableHTTPServerTransport,
  type GetPromptResult,
  type Prompt,
  type ReadResourceResult,
} from "@modelcontextprotocol/server";

export interface ItemsUpstream {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  /** 2025 sessions' resources/subscribe and unsubscribe, as received: ["+uri", "-uri"]. */
  subscriptions: string[];
  /** Methods received, in order. */
  methods: string[];
  /** Sends notifications/resources/updated for `uri` (to 2025 sessions that subscribed and 2026 listen streams that named it). */
  touch(uri: string): void;
  /** How resources/list answers: as usual, pages without end (a fresh cursor each), or one answer of ~20 MiB. */
  resourcesMode: "ok" | "endless" | "huge";
  /** resources/list requests received. */
  resourceListRequests: number;
  /** Replaces the prompt list (names of simple prompts beside greet) and says prompts/list_changed. */
  setExtraPrompts(names: string[]): void;
  stop(): Promise<void>;
}

// 1x1 transparent PNG.
export const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const STYLES = ["formal", "friendly", "funny"];
const DOCS = ["guide.md", "notes.md", "readme.md"];

/** `name` goes into every answer, so two fixtures' answers for the same URI differ. */
/** `token`: every request must carry it as a bearer token, and `test://whoami` answers with the Authorization header it got. */
/** `legacyOnly`: speaks only the 2025 revisions (as server-everything does), so clients fall back to them. */
export async function startItemsUpstream(options: { name: string; promptPageSize?: number; token?: string; legacyOnly?: boolean }): Promise<ItemsUpstream> {
  const { name } = options;
  const info = { name: `items-${name}`, version: "1.0.0" };
  const sessions = new Map<string, { transport: WebStandardStreamableHTTPServerTransport; server: Server; subscribed: Set<string> }>();
  const bus = new InMemoryServerEventBus();
  let extraPrompts: string[] = [];
  const state = { subscriptions: [] as string[], methods: [] as string[], resourcesMode: "ok" as ItemsUpstream["resourcesMode"], resourceListRequests: 0 };
  // The Authorization header of the request being served (test://whoami reads it back).
  let authorization = "";

  function prompts(): Prompt[] {
    return [
      {
        name: "greet",
        title: "Greeting",
        description: `Greets someone (${name})`,
        arguments: [
          { name: "who", description: "Whom to greet", required: true },
          { name: "style", description: "How", required: false },
        ],
      },
      { name: "plain", description: "No arguments" },
      ...extraPrompts.map((p) => ({ name: p, description: `extra ${p}` })),
    ];
  }

  function createServer(subscribed?: Set<string>): Server {
    const server = new Server(info, { capabilities: { prompts: { listChanged: true }, resources: { subscribe: true, listChanged: true }, completions: {} } });
    server.setRequestHandler("prompts/list", (request) => {
      const all = prompts();
      const size = options.promptPageSize;
      if (!size) return { prompts: all };
      const start = Number(request.params?.cursor ?? 0);
      return { prompts: all.slice(start, start + size), ...(start + size < all.length ? { nextCursor: String(start + size) } : {}) };
    });
    server.setRequestHandler("prompts/get", (request): GetPromptResult => {
      const args = request.params.arguments ?? {};
      if (request.params.name === "greet") {
        if (!args.who) throw new ProtocolError(ProtocolErrorCode.InvalidParams, "greet needs who");
        return {
          description: "a greeting",
          messages: [
            { role: "user", content: { type: "text", text: `Hello ${args.who}, ${args.style ?? "plainly"}, from ${name}` } },
            { role: "user", content: { type: "resource", resource: { uri: "file:///README.md", mimeType: "text/markdown", text: `README of ${name}` } } },
          ],
        };
      }
      if (request.params.name === "plain" || extraPrompts.includes(request.params.name)) return { messages: [{ role: "assistant", content: { type: "text", text: `${request.params.name} of ${name}` } }] };
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
    });
    server.setRequestHandler("resources/list", (request) => {
      state.resourceListRequests++;
      if (state.resourcesMode === "endless") return { resources: [], nextCursor: `${Number(request.params?.cursor ?? 0) + 1}` };
      if (state.resourcesMode === "huge") return { resources: Array.from({ length: 20 }, (_, i) => ({ uri: `test://huge/${i}`, name: "huge", description: "x".repeat(1024 * 1024) })) };
      return listedResources();
    });
    const listedResources = () => ({
      resources: [
        { uri: "file:///README.md", name: "README", mimeType: "text/markdown", description: `The README of ${name}` },
        { uri: "test://blob", name: "blob", mimeType: "image/png" },
        { uri: "ui://widget/app.html", name: "app", mimeType: "text/html;profile=mcp-app" },
      ],
    });
    server.setRequestHandler("resources/templates/list", () => ({
      resourceTemplates: [
        { uriTemplate: "file:///docs/{path}", name: "docs", description: "A document" },
        { uriTemplate: "test://items/{id}{?fields}", name: "items" },
      ],
    }));
    server.setRequestHandler("resources/read", (request): ReadResourceResult => {
      const uri = request.params.uri;
      if (uri === "file:///README.md") return { contents: [{ uri, mimeType: "text/markdown", text: `README of ${name}` }] };
      if (uri === "test://whoami") return { contents: [{ uri, text: `you sent: ${authorization}` }] };
      if (uri === "test://blob") return { contents: [{ uri, mimeType: "image/png", blob: PNG_BASE64 }] };
      if (uri === "ui://widget/app.html") return { contents: [{ uri, mimeType: "text/html;profile=mcp-app", text: `<p>app of ${name}</p>` }] };
      if (uri.startsWith("file:///docs/")) return { contents: [{ uri, mimeType: "text/plain", text: `doc ${decodeURIComponent(uri.slice("file:///docs/".length))} of ${name}` }] };
      if (uri.startsWith("test://items/")) return { contents: [{ uri, text: `item ${uri.slice("test://items/".length)} of ${name}` }] };
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Resource not found: ${uri}`, { uri });
    });
    server.setRequestHandler("completion/complete", (request) => {
      const { ref, argument } = request.params;
      const pool = ref.type === "ref/prompt" && ref.name === "greet" && argument.name === "style" ? STYLES : ref.type === "ref/resource" && ref.uri === "file:///docs/{path}" ? DOCS : [];
      const values = pool.filter((v) => v.startsWith(argument.value));
      return { completion: { values, total: values.length, hasMore: false } };
    });
    server.setRequestHandler("resources/subscribe", (request) => {
      state.subscriptions.push(`+${request.params.uri}`);
      subscribed?.add(request.params.uri);
      return {};
    });
    server.setRequestHandler("resources/unsubscribe", (request) => {
      state.subscriptions.push(`-${request.params.uri}`);
      subscribed?.delete(request.params.uri);
      return {};
    });
    return server;
  }

  const modern = createMcpHandler(() => createServer(), { legacy: "reject", bus });
  const stateless = legacyStatelessFallback(() => createServer());

  async function serveLegacy(request: Request, body: unknown): Promise<Response> {
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (session === undefined) return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } }, { status: 404 });
      return session.transport.handleRequest(request);
    }
    if (request.method !== "POST" || !isInitializeRequest(body)) return stateless(request);
    const subscribed = new Set<string>();
    const server = createServer(subscribed);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, { transport, server, subscribed }),
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
      for (const message of Array.isArray(body) ? body : [body]) if (typeof message?.method === "string") state.methods.push(message.method);
      if (options.token !== undefined && request.headers.get("authorization") !== `Bearer ${options.token}`) return new Response("unauthorized", { status: 401 });
      authorization = request.headers.get("authorization") ?? "";
      if (options.legacyOnly || (await isLegacyRequest(request))) return serveLegacy(request, body);
      return modern.fetch(request);
    },
  });

  return {
    url: `http://127.0.0.1:${http.port}/mcp`,
    get subscriptions() {
      return state.subscriptions;
    },
    get methods() {
      return state.methods;
    },
    get resourcesMode() {
      return state.resourcesMode;
    },
    set resourcesMode(mode) {
      state.resourcesMode = mode;
    },
    get resourceListRequests() {
      return state.resourceListRequests;
    },
    touch(uri) {
      modern.notify.resourceUpdated(uri);
      for (const session of sessions.values()) if (session.subscribed.has(uri)) void session.server.sendResourceUpdated({ uri }).catch(() => undefined);
    },
    setExtraPrompts(names) {
      extraPrompts = [...names];
      modern.notify.promptsChanged();
      for (const session of sessions.values()) void session.server.sendPromptListChanged().catch(() => undefined);
    },
    async stop() {
      await http.stop(true);
      await modern.close();
      await Promise.all([...sessions.values()].map((s) => s.transport.close()));
    },
  };
}
