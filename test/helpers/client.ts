import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

export type Era = "2026-07-28" | "2025-11-25" | "2025-06-18" | "2025-03-26";
export const ERAS: Era[] = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"];

/** The real SDK client against the gateway, negotiating the given protocol revision. */
export async function connectClient(
  gatewayUrl: string,
  key: string,
  era: Era = "2026-07-28",
  options: { onToolsChanged?: () => void; path?: string } = {},
): Promise<Client> {
  // `path`: another MCP URL of the gateway, e.g. one connection's /api/v1/mcp/<name>.
  const transport = new StreamableHTTPClientTransport(new URL(`${gatewayUrl}${options.path ?? "/api/v1/mcp"}`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  const client = new Client(
    { name: "test-client", version: "1.0.0" },
    {
      ...(era === "2026-07-28" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : { supportedProtocolVersions: [era] }),
      ...(options.onToolsChanged ? { listChanged: { tools: { autoRefresh: false, onChanged: () => options.onToolsChanged?.() } } } : {}),
    } as ConstructorParameters<typeof Client>[1],
  );
  await client.connect(transport);
  return client;
}


/**
 * The JSON API as a test calls it. A connection added through it exposes every tool at once unless
 * the test says otherwise: the API's own default is to expose nothing until the tools are picked
 * (test/new-connection-exposure.test.ts pins that), and most tests are about what comes after.
 */
export function api(gatewayUrl: string, key: string) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    if (method === "POST" && path === "/api/v1/connections") body = withExposeAll(body);
    const response = await fetch(`${gatewayUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
}

/** Adds `expose: "all"` to a connection body that does not say what to expose. */
export function withExposeAll(body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body) || "expose" in body) return body;
  return { ...body, expose: "all" };
}

/** The HTTP status of a bare 2025-11-25 ping to the MCP endpoint with this key or token. */
export async function mcpPingStatus(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/api/v1/mcp`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
  });
  await response.body?.cancel();
  return response.status;
}
