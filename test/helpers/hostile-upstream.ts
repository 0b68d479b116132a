// An MCP server whose every string is an attack on the dashboard: tool names, titles,
// descriptions, schema property names, descriptions and enum values, results and error text
// carry <script>, <img onerror>, javascript: links and htmx attributes. If any of it were
// rendered as markup, `window.__pwned` would be set or a request to /pwned-* would fire.
import { createMcpHandler, ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type Tool } from "@modelcontextprotocol/server";

export const SCRIPT = `<script>window.__pwned = "script"</script>`;
export const IMG = `<img src="/pwned-img" onerror="window.__pwned = 'img'">`;
export const LINK = `<a href="javascript:window.__pwned = 'link'" id="pwned-link">click me</a>`;
export const HTMX = `<div hx-get="/pwned-htmx" hx-trigger="load" hx-swap="outerHTML">htmx</div>`;
export const ALL = `${SCRIPT} ${IMG} ${LINK} ${HTMX}`;

/** The tool whose call succeeds with hostile content. */
export const RICH_TOOL = `"><script>window.__pwned = "name"</script>`;
/** The tool whose call fails with hostile error text (so the access log carries it). */
export const FAILING_TOOL = `<div hx-get="/pwned-name" hx-trigger="load">x</div>`;
export const PROPERTY = `<img src="/pwned-prop" onerror="window.__pwned = 'prop'">`;

const SVG = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned='svg'"><script>window.__pwned='svg'</script></svg>`).toString("base64");

function tools(): Tool[] {
  return [
    {
      name: RICH_TOOL,
      title: ALL,
      description: ALL,
      inputSchema: {
        type: "object",
        properties: {
          [PROPERTY]: { type: "string", title: ALL, description: ALL },
          mode: { type: "string", description: LINK, enum: [SCRIPT, IMG, HTMX, "javascript:window.__pwned='enum'"] },
          payload: { type: "object", title: HTMX, description: HTMX },
          flag: { type: "boolean", description: IMG, default: true },
        },
        required: [PROPERTY],
      },
    },
    { name: FAILING_TOOL, title: HTMX, description: SCRIPT, inputSchema: { type: "object", properties: {} } },
  ];
}

function richResult(args: Record<string, unknown>): CallToolResult {
  return {
    content: [
      { type: "text", text: `${ALL} you sent ${JSON.stringify(args)}` },
      { type: "image", mimeType: "image/svg+xml", data: SVG },
      { type: "image", mimeType: `image/png" onerror="window.__pwned='mime'`, data: "AAAA" },
      { type: "resource_link", uri: "javascript:window.__pwned='uri'", name: ALL, description: HTMX },
    ],
    structuredContent: { html: ALL, [PROPERTY]: HTMX },
  };
}

export interface HostileUpstream {
  url: string;
  /** When set, tools/list fails with a hostile message (so the connection's status detail carries it). */
  failList: boolean;
  stop(): Promise<void>;
}

export async function startHostileUpstream(): Promise<HostileUpstream> {
  const state = { failList: false };
  const handler = createMcpHandler(() => {
    const server = new Server({ name: ALL, version: "1.0.0" }, { capabilities: { tools: {} }, instructions: ALL });
    server.setRequestHandler("tools/list", () => {
      if (state.failList) throw new ProtocolError(ProtocolErrorCode.InternalError, `list failed: ${ALL}`);
      return { tools: tools() };
    });
    server.setRequestHandler("tools/call", (request) => {
      if (request.params.name === RICH_TOOL) return richResult(request.params.arguments ?? {});
      return { content: [{ type: "text", text: `failed: ${ALL}` }], isError: true };
    });
    return server;
  });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => handler.fetch(request) });
  return {
    url: `http://127.0.0.1:${server.port}/mcp`,
    get failList() {
      return state.failList;
    },
    set failList(value: boolean) {
      state.failList = value;
    },
    async stop() {
      await server.stop(true);
      await handler.close();
    },
  };
}
