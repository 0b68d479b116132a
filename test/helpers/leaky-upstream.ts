// An MCP server that echoes the credential it was sent, everywhere an answer can carry text: a
// result's text, an isError result, structuredContent (deep), a resource inside the content, _meta,
// a JSON-RPC error's message and data, an HTTP error body; raw, base64, base64url or URL-encoded.
// It accepts any of the credentials it is given (bearer, custom header, key in the URL path), so a
// test can check both that the gateway sent one and that none of it comes back.
import { createMcpHandler, ProtocolError, ProtocolErrorCode, Server, type CallToolResult } from "@modelcontextprotocol/server";

export type Where = "text" | "error_result" | "structured" | "resource" | "meta" | "jsonrpc" | "http";
export type Form = "raw" | "base64" | "base64url" | "urlencoded";
export type LeakArgs = { where: Where; form?: Form; pad?: number };

export interface LeakyUpstream {
  /** http://127.0.0.1:PORT/mcp: append `/{key}` for a connection whose credential goes in the URL. */
  url: string;
  /** The credential each tools/call arrived with (header line, or the URL key), in order. */
  received: string[];
  stop(): Promise<void>;
}

export type LeakyAuth = { bearers?: string[]; header?: { name: string; values: string[] }; urlKeys?: string[] };

/** What the request carried: the whole Authorization header line, the custom header line, or the URL key. */
function credentialOf(request: Request, auth: LeakyAuth): string | null {
  const authorization = request.headers.get("authorization");
  if (authorization && auth.bearers?.some((t) => authorization === `Bearer ${t}`)) return `Authorization: ${authorization}`;
  const header = auth.header ? request.headers.get(auth.header.name) : null;
  if (header && auth.header?.values.includes(header)) return `${auth.header.name}: ${header}`;
  const key = decodeURIComponent(new URL(request.url).pathname.split("/")[2] ?? "");
  if (key && auth.urlKeys?.includes(key)) return `${request.url} (key ${key})`;
  return null;
}

function encode(text: string, form: Form): string {
  if (form === "base64") return Buffer.from(text).toString("base64");
  if (form === "base64url") return Buffer.from(text).toString("base64url");
  if (form === "urlencoded") return encodeURIComponent(text);
  return text;
}

function leak(args: LeakArgs, credential: string): CallToolResult {
  const echo = `${"x".repeat(args.pad ?? 0)}you sent ${encode(credential, args.form ?? "raw")} and that is all`;
  switch (args.where) {
    case "text":
      return { content: [{ type: "text", text: echo }] };
    case "error_result":
      return { content: [{ type: "text", text: echo }], isError: true };
    case "structured":
      return { content: [{ type: "text", text: "see structured" }], structuredContent: { deep: { list: [{ [echo]: echo }] } } };
    case "resource":
      return { content: [{ type: "resource", resource: { uri: "leak://echo", mimeType: "text/plain", text: echo } }] };
    case "meta":
      return { content: [{ type: "text", text: "see meta" }], _meta: { "example.com/echo": { header: echo } } };
    default:
      throw new ProtocolError(ProtocolErrorCode.InternalError, echo, { echo });
  }
}

export async function startLeakyUpstream(auth: LeakyAuth): Promise<LeakyUpstream> {
  const received: string[] = [];
  const handler = createMcpHandler(() => {
    const server = new Server({ name: "leaky", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler("tools/list", () => ({
      tools: [{ name: "leak", description: "Echoes the credential it received.", inputSchema: { type: "object", properties: { where: { type: "string" }, form: { type: "string" }, pad: { type: "integer" } }, required: ["where"] } }],
    }));
    server.setRequestHandler("tools/call", (request, ctx) => {
      const credential = ctx.http?.req ? credentialOf(ctx.http.req, auth) : null;
      if (!credential) throw new ProtocolError(ProtocolErrorCode.InternalError, "no credential reached the tool");
      received.push(credential);
      return leak((request.params.arguments ?? {}) as LeakArgs, credential);
    });
    return server;
  });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const credential = credentialOf(request, auth);
      if (!credential) return new Response(JSON.stringify({ error: "invalid_token" }), { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
      const body = request.method === "POST" ? ((await request.clone().json().catch(() => null)) as { params?: { arguments?: LeakArgs } } | null) : null;
      if (body?.params?.arguments?.where === "http") {
        received.push(credential);
        return new Response(`upstream exploded; you sent ${credential}`, { status: 500, headers: { "content-type": "text/plain" } });
      }
      return handler.fetch(request);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/mcp`,
    received,
    async stop() {
      await server.stop(true);
      await handler.close();
    },
  };
}
