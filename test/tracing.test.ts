import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api, type Era } from "./helpers/client.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./helpers/otlp-receiver.ts";
import { waitFor } from "./helpers/wait.ts";

const SERVER = 2;
const CLIENT = 3;

/** A client's own span: a fresh trace id and span id, sampled, as W3C trace context writes them. */
function clientSpan(): { traceId: string; spanId: string; traceparent: string } {
  const hex = (bytes: number): string => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** The SDK client, sending `traceparent` as an HTTP header on each request when given one. */
async function tracedClient(gatewayUrl: string, key: string, era: Era, traceparent: string | null): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/api/v1/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${key}`, ...(traceparent ? { traceparent } : {}) } },
  });
  const client = new Client({ name: "traced-client", version: "1.0.0" }, (era === "2026-07-28" ? { versionNegotiation: { mode: { pin: era } } } : { supportedProtocolVersions: [era] }) as ConstructorParameters<typeof Client>[1]);
  await client.connect(transport);
  return client;
}

for (const dialect of dialects) {
  describe(`traces over OTLP/HTTP on ${dialect}`, () => {
    let t: TestGateway;
    let upstream: Upstream;
    let receiver: OtlpReceiver;
    let key: string;

    beforeAll(async () => {
      receiver = startOtlpReceiver();
      [t, upstream] = await Promise.all([
        startTestGateway({ dialect, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_SERVICE_NAME: "gateway-under-test" } }),
        startUpstream({ tools: ["echo"] }),
      ]);
      ({ key } = await seedOwner(t));
      expect((await api(t.url, key)("POST", "/api/v1/connections", { name: "fixture", url: upstream.url })).status).toBe(201);
    });
    afterAll(async () => {
      await t.stop();
      await upstream.stop();
      await receiver.stop();
    });

    /** The traceparent the upstream received with the tools/call that carried `message`. */
    function upstreamTraceparent(): string | undefined {
      return upstream.requests.filter((r) => r.method === "tools/call").at(-1)?.headers.traceparent;
    }

    async function spansOf(traceId: string, atLeast: number): Promise<ReceivedSpan[]> {
      await t.gateway.deps.observe.tracing?.flush();
      await waitFor(() => receiver.spans.filter((s) => s.traceId === traceId).length >= atLeast, { what: `${atLeast} spans of trace ${traceId}` });
      return receiver.spans.filter((s) => s.traceId === traceId);
    }

    for (const era of ["2026-07-28", "2025-11-25"] as Era[]) {
      test(`${era}: one trace from the client's span through the gateway's request, call and upstream request spans to the upstream's traceparent`, async () => {
        const mine = clientSpan();
        const client = await tracedClient(t.url, key, era, mine.traceparent);
        try {
          const result = await client.callTool({ name: "fixture__echo", arguments: { message: "traced" }, _meta: { traceparent: mine.traceparent } });
          expect(result.isError).toBeFalsy();
        } finally {
          await client.close();
        }
        const sent = upstreamTraceparent();
        expect(sent).toMatch(new RegExp(`^00-${mine.traceId}-[0-9a-f]{16}-01$`));

        const spans = await spansOf(mine.traceId, 3);
        const call = spans.find((s) => s.name === "tools/call fixture__echo");
        expect(call).toBeDefined();
        // The HTTP request that carried the call is the client span's child, and the call's parent.
        const request = spans.find((s) => s.spanId === call?.parentSpanId);
        expect(request).toMatchObject({ kind: SERVER, parentSpanId: mine.spanId, attributes: { "http.request.method": "POST", "http.response.status_code": 200 } });
        expect(call?.attributes).toMatchObject({ "mcp.method.name": "tools/call", "gen_ai.tool.name": "fixture__echo", "mcp_gateway.connection": "fixture", "mcp_gateway.outcome": "ok" });
        // What the upstream was sent names the gateway's span of that upstream request, the call's
        // child (the first call also connects: the handshake's requests are the call's children too).
        const outbound = spans.find((s) => sent === `00-${mine.traceId}-${s.spanId}-01`);
        expect(outbound).toMatchObject({ kind: CLIENT, name: "POST", parentSpanId: call?.spanId, attributes: { "mcp_gateway.connection": "fixture", "server.address": "127.0.0.1", "http.response.status_code": 200 } });
        // MCP's convention too: the call's own span in the request's _meta.
        const meta = upstream.requests.filter((r) => r.method === "tools/call").at(-1)?.meta;
        expect(meta?.traceparent).toBe(`00-${mine.traceId}-${call?.spanId}-01`);
        // Never the upstream's URL (a connection may carry its key in it).
        expect(JSON.stringify(spans)).not.toContain(upstream.url);
      });
    }

    test("without an HTTP traceparent, the call continues the trace its params._meta.traceparent names, linked to the HTTP request's span", async () => {
      const mine = clientSpan();
      const client = await tracedClient(t.url, key, "2026-07-28", null);
      try {
        await client.callTool({ name: "fixture__echo", arguments: { message: "meta only" }, _meta: { traceparent: mine.traceparent } });
      } finally {
        await client.close();
      }
      const spans = await spansOf(mine.traceId, 2);
      const call = spans.find((s) => s.name === "tools/call fixture__echo");
      expect(call?.parentSpanId).toBe(mine.spanId);
      expect(call?.links?.length).toBe(1);
      const request = receiver.spans.find((s) => s.spanId === call?.links?.[0]?.spanId);
      expect(request?.kind).toBe(SERVER);
      const sent = upstreamTraceparent();
      expect(spans.find((s) => sent === `00-${mine.traceId}-${s.spanId}-01`)).toMatchObject({ kind: CLIENT, parentSpanId: call?.spanId });
    });

    test("database writes have spans, and the service is named by OTEL_SERVICE_NAME", async () => {
      await t.gateway.deps.accessLog.flush();
      await t.gateway.deps.observe.tracing?.flush();
      await waitFor(() => receiver.spans.some((s) => s.name === "db transaction"), { what: "a database write span" });
      const write = receiver.spans.find((s) => s.name === "db transaction");
      expect(write?.attributes["db.system.name"]).toBe(dialect === "sqlite" ? "sqlite" : "postgresql");
      expect(receiver.resources.every((r) => r["service.name"] === "gateway-under-test")).toBe(true);
    });
  });
}

test("without OTEL_EXPORTER_OTLP_ENDPOINT no tracing is set up, and the upstream gets no traceparent", async () => {
  const [t, upstream] = await Promise.all([startTestGateway(), startUpstream({ tools: ["echo"] })]);
  try {
    expect(t.gateway.deps.observe.tracing).toBeNull();
    const { key } = await seedOwner(t);
    expect((await api(t.url, key)("POST", "/api/v1/connections", { name: "fixture", url: upstream.url })).status).toBe(201);
    const client = await tracedClient(t.url, key, "2026-07-28", clientSpan().traceparent);
    await client.callTool({ name: "fixture__echo", arguments: { message: "untraced" } });
    await client.close();
    const call = upstream.requests.filter((r) => r.method === "tools/call").at(-1);
    expect(call).toBeDefined();
    expect(call?.headers.traceparent).toBeUndefined();
    expect(call?.meta?.traceparent).toBeUndefined();
  } finally {
    await t.stop();
    await upstream.stop();
  }
});

test("without OTEL_EXPORTER_OTLP_ENDPOINT the OpenTelemetry SDK is never loaded (only with it)", async () => {
  // A fresh process each: a module loaded by a test above would be in this one's cache.
  const script = `
    import { mkdtempSync } from "node:fs";
    import { tmpdir } from "node:os";
    import { join } from "node:path";
    import { loadConfig } from "./src/config.ts";
    import { startGateway } from "./src/runtime.ts";
    const env = { PORT: "0", DATA_DIR: mkdtempSync(join(tmpdir(), "mgw-otel-")), LOG_LEVEL: "error", ...(process.argv.includes("on") ? { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" } : {}) };
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    const gateway = await startGateway(loaded.config);
    console.log(Object.keys(require.cache).filter((path) => /@opentelemetry\\/(sdk-trace|exporter-trace-otlp-http|otlp-|resources)/.test(path)).length);
    await gateway.stop();`;
  const count = async (mode: string): Promise<number> => {
    const child = Bun.spawn(["bun", "-e", script, mode], { cwd: `${import.meta.dir}/..`, stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(code).toBe(0);
    return Number(out.trim().split("\n").at(-1));
  };
  expect(await count("off")).toBe(0);
  expect(await count("on")).toBeGreaterThan(0);
});
