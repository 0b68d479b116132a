import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client, specTypeSchemas, StreamableHTTPClientTransport, type CallToolResult } from "@modelcontextprotocol/client";
import { parsesAsItIs } from "../src/upstream/direct-call.ts";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api, connectClient, type Era } from "./helpers/client.ts";

/**
 * A plain tools/call to a 2026-07-28 upstream is sent without the SDK client
 * (src/upstream/direct-call.ts). Whatever the upstream answers — well-formed or not — the caller
 * must not be able to tell: the same calls go through a gateway with it on and one with
 * FAST_RELAY=off (every call through the SDK client), and what each caller gets is compared.
 *
 * The upstream is written by hand, not with the SDK: its answers are what no SDK server would
 * send (extra fields, a stream cut short, a 400 carrying a JSON-RPC error, text/plain, a
 * redirect), and it echoes the credential it was sent.
 */
const TOKEN = "direct-call-secret-token-5d1f";
const MODERN = "2026-07-28";
const SERVER_META = { "io.modelcontextprotocol/serverInfo": { name: "hostile-upstream", version: "1.0.0" } };

const TOOLS = [
  { name: "extra", description: "Fields a content block may not carry, and extra top-level ones.", inputSchema: { type: "object" } },
  { name: "stream", description: "Progress, a log message and a list change on an event stream, then the result.", inputSchema: { type: "object" } },
  { name: "stream_crlf", description: "The same with CRLF line ends, a multi-line data field and events split across writes.", inputSchema: { type: "object" } },
  { name: "no_type", description: "A result without resultType.", inputSchema: { type: "object" } },
  { name: "bad_structured", description: "Structured content its output schema refuses.", inputSchema: { type: "object" }, outputSchema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] } },
  { name: "missing_structured", description: "An output schema and no structured content.", inputSchema: { type: "object" }, outputSchema: { type: "object", properties: { n: { type: "number" } } } },
  { name: "good_structured", description: "Structured content its output schema accepts.", inputSchema: { type: "object" }, outputSchema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] } },
  { name: "error_400", description: "HTTP 400 carrying the call's JSON-RPC error.", inputSchema: { type: "object" } },
  { name: "error_200", description: "The call's JSON-RPC error, with data.", inputSchema: { type: "object" } },
  { name: "plain_text", description: "text/plain.", inputSchema: { type: "object" } },
  { name: "not_jsonrpc", description: "JSON that is no JSON-RPC message.", inputSchema: { type: "object" } },
  { name: "cut", description: "An event stream that ends after one progress event.", inputSchema: { type: "object" } },
  { name: "redirect", description: "307 to the same endpoint, which then answers.", inputSchema: { type: "object" } },
  { name: "http_500", description: "HTTP 500 with a body.", inputSchema: { type: "object" } },
  { name: "echo_auth", description: "Echoes the Authorization header it was sent.", inputSchema: { type: "object" } },
  { name: "input", description: "Asks for input (input_required), then answers with what it was given.", inputSchema: { type: "object" } },
];

type Hostile = { url: string; calls: { name: string; body: Record<string, unknown>; headers: Record<string, string> }[]; stop(): Promise<void> };

function complete(result: Record<string, unknown>): Record<string, unknown> {
  return { resultType: "complete", _meta: SERVER_META, ...result };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function sse(events: string[], options: { crlf?: boolean; split?: boolean } = {}): Response {
  const end = options.crlf ? "\r\n" : "\n";
  const text = events.map((data) => `event: message${end}${data.split("\n").map((line) => `data: ${line}`).join(end)}${end}${end}`).join("");
  const encoder = new TextEncoder();
  const pieces = options.split ? text.match(/[\s\S]{1,7}/g)! : [text];
  return new Response(
    new ReadableStream({
      async pull(controller) {
        const piece = pieces.shift();
        if (piece === undefined) return controller.close();
        controller.enqueue(encoder.encode(piece));
        await Bun.sleep(1);
      },
    }),
    { headers: { "content-type": "text/event-stream" } },
  );
}

async function startHostile(): Promise<Hostile> {
  const calls: Hostile["calls"] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method !== "POST") return new Response(null, { status: 405 });
      const body = (await request.json()) as { id: string | number; method: string; params?: Record<string, unknown> };
      const { id, method } = body;
      if (method === "server/discover") return json({ jsonrpc: "2.0", id, result: complete({ supportedVersions: [MODERN], capabilities: { tools: { listChanged: true }, logging: {} }, ttlMs: 0, cacheScope: "private" }) });
      if (method === "tools/list") return json({ jsonrpc: "2.0", id, result: complete({ tools: TOOLS, ttlMs: 0, cacheScope: "private" }) });
      if (method !== "tools/call") return json({ jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found" } });
      const params = body.params as { name: string; arguments?: Record<string, unknown>; _meta?: Record<string, unknown>; inputResponses?: Record<string, unknown> };
      calls.push({ name: params.name, body: body as never, headers: Object.fromEntries(request.headers) });
      const token = params._meta?.progressToken;
      const result = (r: Record<string, unknown>): string => JSON.stringify({ jsonrpc: "2.0", id, result: complete(r) });
      const progress = (p: number): string => JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: token, progress: p, total: 2 } });
      const log = JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "warning", logger: "hostile", data: `careful with ${TOKEN}` } });
      switch (params.name) {
        case "extra":
          return json({ jsonrpc: "2.0", id, result: complete({ content: [{ type: "text", text: "hi", extra: 1, annotations: { audience: ["user"], priority: 0.5 } }, { type: "image", data: "aGk=", mimeType: "image/png", bogus: true }], extraTop: { a: 1 } }) });
        case "stream":
          return sse([progress(1), log, JSON.stringify({ jsonrpc: "2.0", method: "notifications/tools/list_changed" }), progress(2), result({ content: [{ type: "text", text: "streamed" }] })]);
        case "stream_crlf":
          return sse([progress(1), JSON.stringify({ jsonrpc: "2.0", id, result: complete({ content: [{ type: "text", text: "two\nlines" }] }) }, null, 2)], { crlf: true, split: true });
        case "no_type":
          return json({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text: "no type" }] } });
        case "bad_structured":
          return json({ jsonrpc: "2.0", id, result: complete({ content: [{ type: "text", text: "x" }], structuredContent: { n: "not a number" } }) });
        case "missing_structured":
          return json({ jsonrpc: "2.0", id, result: complete({ content: [{ type: "text", text: "x" }] }) });
        case "good_structured":
          return json({ jsonrpc: "2.0", id, result: complete({ content: [{ type: "text", text: "{\"n\":3}" }], structuredContent: { n: 3 } }) });
        case "error_400":
          return json({ jsonrpc: "2.0", id, error: { code: -32602, message: "the argument q is required", data: { field: "q" } } }, 400);
        case "error_200":
          return json({ jsonrpc: "2.0", id, error: { code: -32050, message: "quota exceeded", data: { retryAfterSeconds: 30 } } });
        case "plain_text":
          return new Response("hello", { headers: { "content-type": "text/plain" } });
        case "not_jsonrpc":
          return json({ hello: "world" });
        case "cut":
          return sse([progress(1)]);
        case "redirect":
          if (url.searchParams.get("moved") === null) return new Response(null, { status: 307, headers: { location: "/mcp?moved=1" } });
          return json({ jsonrpc: "2.0", id, result: complete({ content: [{ type: "text", text: "after the redirect" }] }) });
        case "http_500":
          return new Response("the upstream broke", { status: 500 });
        case "echo_auth":
          return json({ jsonrpc: "2.0", id, result: complete({ content: [{ type: "text", text: `you sent ${request.headers.get("authorization")}` }], structuredContent: { header: request.headers.get("authorization") } }) });
        case "input": {
          const answer = params.inputResponses?.confirm as { action?: string; content?: { ok?: boolean } } | undefined;
          if (answer === undefined) {
            return json({ jsonrpc: "2.0", id, result: { resultType: "input_required", inputRequests: { confirm: { method: "elicitation/create", params: { mode: "form", message: "Go on?", requestedSchema: { type: "object", properties: { ok: { type: "boolean" } } } } } }, requestState: "round-1" } });
          }
          return json({ jsonrpc: "2.0", id, result: complete({ content: [{ type: "text", text: `answered ${answer.action} ${JSON.stringify(answer.content)}` }] }) });
        }
      }
      return json({ jsonrpc: "2.0", id, error: { code: -32602, message: `Unknown tool ${params.name}` } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/mcp`, calls, stop: () => server.stop(true) };
}

type Seen = { result?: unknown; error?: string; progress: number[] };

async function callAndSee(client: Client, name: string): Promise<Seen> {
  const progress: number[] = [];
  try {
    const result = (await client.callTool({ name, arguments: {} }, { onprogress: (p) => progress.push(p.progress), timeout: 10_000 })) as CallToolResult;
    return { result, progress };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), progress };
  }
}

for (const dialect of dialects) {
  describe(`tools/call sent without the SDK client, on ${dialect}`, () => {
    let direct: TestGateway;
    let viaSdk: TestGateway;
    let keys: { direct: string; viaSdk: string };
    let hostile: Hostile;

    beforeAll(async () => {
      [direct, viaSdk, hostile] = await Promise.all([startTestGateway({ dialect }), startTestGateway({ dialect, env: { FAST_RELAY: "off" } }), startHostile()]);
      keys = { direct: (await seedOwner(direct)).key, viaSdk: (await seedOwner(viaSdk)).key };
      for (const [t, key] of [[direct, keys.direct], [viaSdk, keys.viaSdk]] as const) {
        const added = await api(t.url, key)("POST", "/api/v1/connections", { name: "hostile", url: hostile.url, auth: { kind: "bearer", token: TOKEN } });
        expect(added.status).toBe(201);
      }
    });

    afterAll(async () => {
      await Promise.all([direct?.stop(), viaSdk?.stop(), hostile?.stop()]);
    });

    const ERAS: Era[] = ["2026-07-28", "2025-11-25"];
    for (const era of ERAS) {
      test(`a ${era} caller gets the same answer either way, whatever the upstream sends, and never the credential`, async () => {
        const clients = { direct: await connectClient(direct.url, keys.direct, era), viaSdk: await connectClient(viaSdk.url, keys.viaSdk, era) };
        try {
          for (const tool of TOOLS.map((t) => t.name).filter((name) => name !== "input")) {
            const before = hostile.calls.length;
            const seen = { direct: await callAndSee(clients.direct, `hostile__${tool}`), viaSdk: await callAndSee(clients.viaSdk, `hostile__${tool}`) };
            expect({ tool, ...seen.direct }).toEqual({ tool, ...seen.viaSdk });
            expect(JSON.stringify(seen.direct)).not.toContain(TOKEN);
            // Both gateways sent it; the direct one sent no second request but for a redirect or a 401/403.
            expect(hostile.calls.length - before).toBeGreaterThanOrEqual(2);
          }
        } finally {
          await Promise.all([clients.direct.close(), clients.viaSdk.close()]);
        }
      });
    }

    test("what the upstream sees is the same request either way: the envelope, the progress token, the Mcp-* headers, the credential", async () => {
      const clients = { direct: await connectClient(direct.url, keys.direct), viaSdk: await connectClient(viaSdk.url, keys.viaSdk) };
      try {
        const requests = [];
        for (const client of [clients.direct, clients.viaSdk]) {
          const before = hostile.calls.length;
          await client.callTool({ name: "hostile__extra", arguments: { q: "x" }, _meta: { "acme.example/trace": "t-1" } });
          const [sent] = hostile.calls.slice(before);
          const { "content-length": _, "user-agent": __, host: ___, "accept-encoding": ____, ...headers } = sent!.headers;
          const params = sent!.body.params as { _meta: Record<string, unknown> };
          requests.push({ headers, body: { ...sent!.body, id: typeof sent!.body.id, params: { ...params, _meta: { ...params._meta, progressToken: typeof params._meta.progressToken } } } });
        }
        expect(requests[0]).toEqual(requests[1]!);
        expect(requests[0]!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, "mcp-method": "tools/call", "mcp-name": "extra", "mcp-protocol-version": MODERN });
        expect(Object.keys(requests[0]!.headers).some((name) => name.startsWith("x-mcp-gateway"))).toBe(false);
      } finally {
        await Promise.all([clients.direct.close(), clients.viaSdk.close()]);
      }
    });

    test("an upstream's input_required goes to the caller, and the caller's answer comes back to it, either way", async () => {
      const answers: string[] = [];
      for (const [t, key] of [[direct, keys.direct], [viaSdk, keys.viaSdk]] as const) {
        const client = new Client({ name: "asking-client", version: "1.0.0" }, { versionNegotiation: { mode: { pin: MODERN } }, capabilities: { elicitation: { form: {} } } } as ConstructorParameters<typeof Client>[1]);
        await client.connect(new StreamableHTTPClientTransport(new URL(`${t.url}/api/v1/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
        client.setRequestHandler("elicitation/create", async () => ({ action: "accept", content: { ok: true } }));
        try {
          const result = (await client.callTool({ name: "hostile__input", arguments: {} })) as CallToolResult;
          answers.push(JSON.stringify(result.content));
        } finally {
          await client.close();
        }
      }
      expect(answers[0]).toBe(answers[1]!);
      expect(answers[0]).toContain('answered accept {\\"ok\\":true}');
    });
  });
}

describe("a direct call's result skips the SDK's result schema only where the schema would change nothing", () => {
  const info = (extra: Record<string, unknown> = {}) => ({ _meta: { "io.modelcontextprotocol/serverInfo": { name: "up", version: "1.0.0", ...extra } } });
  const text = { type: "text", text: "hi" };
  // [what it is, the result, whether the shortcut must take it]
  const cases: [string, Record<string, unknown>, boolean][] = [
    ["plain text", { content: [text] }, true],
    ["text, isError, structured content, server info", { content: [text, text], isError: true, structuredContent: { n: 1 }, ...info() }, true],
    ["no blocks, a titled server, an extra key", { content: [], ...info({ title: "Up" }), other: { kept: true } }, true],
    ["a block's _meta", { content: [{ ...text, _meta: { a: 1 } }] }, false],
    ["a block's annotations", { content: [{ ...text, annotations: { audience: ["user"], nope: 1 } }] }, false],
    ["a block's extra key", { content: [{ ...text, extra: "dropped by the schema" }] }, false],
    ["an image block", { content: [{ type: "image", data: "aGk=", mimeType: "image/png" }] }, false],
    ["text that is not a string", { content: [{ type: "text", text: 5 }] }, false],
    ["content that is not a list", { content: "not a list" }, false],
    ["no content", {}, false],
    ["isError not a boolean", { content: [text], isError: "yes" }, false],
    ["server info with icons", { content: [text], ...info({ icons: [{ src: "https://x.example/i.png" }] }) }, false],
    ["server info with an extra key", { content: [text], ...info({ secret: "dropped by the schema" }) }, false],
    ["server info not an object", { content: [text], _meta: { "io.modelcontextprotocol/serverInfo": "not an implementation" } }, false],
    ["server info without a version", { content: [text], _meta: { "io.modelcontextprotocol/serverInfo": { name: "no version" } } }, false],
    ["a block with __proto__", { content: [JSON.parse('{"type":"text","text":"x","__proto__":{"polluted":true}}')] }, false],
  ];
  test.each(cases)("%s", (_, result, taken) => {
    expect(parsesAsItIs(result)).toBe(taken);
    if (!taken) return;
    // What the shortcut hands on is what the SDK's parse would have handed on.
    const parsed = specTypeSchemas.CallToolResult["~standard"].validate(result) as { value?: unknown; issues?: unknown };
    expect(parsed.issues).toBeUndefined();
    expect(JSON.parse(JSON.stringify(parsed.value))).toEqual(JSON.parse(JSON.stringify(result)));
  });
  test("every case the shortcut refuses is one the schema changes or refuses", () => {
    for (const [, result, taken] of cases) {
      if (taken) continue;
      const parsed = specTypeSchemas.CallToolResult["~standard"].validate(result) as { value?: unknown; issues?: unknown };
      const unchanged = parsed.issues === undefined && JSON.stringify(parsed.value) === JSON.stringify(result);
      // The refused shapes above are there because the schema touches them; image content is the one
      // the schema keeps as it is (another block type: the shortcut leaves it to the schema).
      if (unchanged) expect((result.content as { type?: string }[])[0]?.type === "image" || "_meta" in ((result.content as Record<string, unknown>[])[0] ?? {})).toBe(true);
    }
  });
});
