import { afterEach, describe, expect, test } from "bun:test";
import {
  Client,
  ProtocolError,
  StreamableHTTPClientTransport,
  type ClientOptions,
  type StreamableHTTPClientTransportOptions,
} from "@modelcontextprotocol/client";
import { startEverything } from "./helpers/everything.ts";
import { startFaultyUpstream, type FaultyUpstream } from "./helpers/faulty-upstream.ts";
import { builtinToolNames, startUpstream, type Upstream, type UpstreamOptions } from "./helpers/upstream.ts";
import { waitFor } from "./helpers/wait.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function upstream(options?: UpstreamOptions): Promise<Upstream> {
  const started = await startUpstream(options);
  cleanups.push(started.stop);
  return started;
}

async function faulty(...args: Parameters<typeof startFaultyUpstream>): Promise<FaultyUpstream> {
  const started = await startFaultyUpstream(...args);
  cleanups.push(started.stop);
  return started;
}

async function connect(
  url: string,
  options: ClientOptions = {},
  transportOptions: StreamableHTTPClientTransportOptions = {},
): Promise<Client> {
  const client = new Client({ name: "fixture-test", version: "1.0.0" }, options);
  await client.connect(new StreamableHTTPClientTransport(new URL(url), transportOptions));
  cleanups.push(() => client.close());
  return client;
}


// The default client speaks 2025 (initialize); "auto" probes server/discover first.
const eras: Record<string, ClientOptions> = {
  "2026-07-28": { versionNegotiation: { mode: "auto" } },
  "2025-11-25": { supportedProtocolVersions: ["2025-11-25"] },
  "2025-06-18": { supportedProtocolVersions: ["2025-06-18"] },
  "2025-03-26": { supportedProtocolVersions: ["2025-03-26"] },
};

describe("startUpstream", () => {
  for (const [version, options] of Object.entries(eras)) {
    test(`a ${version} client lists every tool across pages and calls echo`, async () => {
      const server = await upstream({ extraToolCount: 5, pageSize: 4 });
      const client = await connect(server.url, options);
      expect(client.getNegotiatedProtocolVersion()).toBe(version);

      const { tools } = await client.listTools();
      const extra = ["tool_0", "tool_1", "tool_2", "tool_3", "tool_4"];
      expect(tools.map((tool) => tool.name)).toEqual([...builtinToolNames, ...extra]);
      expect(server.requests.filter((r) => r.method === "tools/list")).toHaveLength(4);
      const page = await client.listTools({ cursor: "4" });
      expect(page.tools).toHaveLength(4);
      expect(page.nextCursor).toBe("8");

      const echoed = await client.callTool({ name: "echo", arguments: { message: "hi" } });
      expect(echoed.content).toEqual([{ type: "text", text: "hi" }]);
      expect(echoed.structuredContent).toEqual({ message: "hi" });
      expect(server.calls).toBe(1);
    });

    test(`a ${version} client receives progress and can cancel a hanging call`, async () => {
      const server = await upstream();
      const client = await connect(server.url, options);
      const progress: number[] = [];
      const done = await client.callTool(
        { name: "progress", arguments: { steps: 3 } },
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(done.content).toEqual([{ type: "text", text: "done" }]);
      expect(progress).toEqual([1, 2, 3]);

      const abort = new AbortController();
      const call = client.callTool({ name: "hang", arguments: {} }, { signal: abort.signal });
      await waitFor(() => server.calls === 2, { timeoutMs: 2000 });
      abort.abort();
      await expect(call).rejects.toThrow();
      await waitFor(() => server.cancelled.includes("hang"), { timeoutMs: 2000 });
    });

    test(`a ${version} client hears list_changed after setTools`, async () => {
      const server = await upstream();
      let changed: string[] = [];
      const onChanged = (_: Error | null, tools: { name: string }[] | null): void => {
        changed = tools?.map((tool) => tool.name) ?? [];
      };
      await connect(server.url, { ...options, listChanged: { tools: { debounceMs: 0, onChanged } } });
      await waitFor(() => server.openStreams() === 1, { timeoutMs: 2000 }); // a 2025 client opens its GET stream after connect
      server.setTools(["echo", "brand_new"]);
      await waitFor(() => changed.length > 0, { timeoutMs: 2000 });
      expect(changed).toEqual(["echo", "brand_new"]);
    });
  }

  test("fail is a tool error, throw a JSON-RPC error, image an image and a caption", async () => {
    const client = await connect((await upstream()).url, eras["2026-07-28"]);
    const failed = await client.callTool({ name: "fail", arguments: {} });
    expect(failed).toMatchObject({ isError: true, content: [{ type: "text", text: "it failed on purpose" }] });
    const thrown = client.callTool({ name: "throw", arguments: {} });
    await expect(thrown).rejects.toBeInstanceOf(ProtocolError);
    await expect(thrown).rejects.toMatchObject({ code: -32603 });
    const image = await client.callTool({ name: "image", arguments: {} });
    expect(image.content).toMatchObject([{ type: "image", mimeType: "image/png" }, { type: "text" }]);
    const slow = await client.callTool({ name: "slow", arguments: { ms: 10 } });
    expect(slow.content).toEqual([{ type: "text", text: "slept 10 ms" }]);
    const badArgs = await client.callTool({ name: "add", arguments: { a: 1 } });
    expect(badArgs.isError).toBe(true);
  });

  test("a bearer upstream accepts its token and answers 401 to anything else", async () => {
    const server = await upstream({ auth: { kind: "bearer", token: "secret" }, tools: ["add"] });
    const client = await connect(server.url, eras["2026-07-28"], { authProvider: { token: async () => "secret" } });
    const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    expect(sum.content).toEqual([{ type: "text", text: "5" }]);
    expect(server.requests.every((r) => r.authorization === "Bearer secret")).toBe(true);

    const refused = await fetch(server.url, { method: "POST", headers: { authorization: "Bearer wrong" }, body: "{}" });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toStartWith("Bearer");
    const wrong = connect(server.url, eras["2026-07-28"], { authProvider: { token: async () => "wrong" } });
    await expect(wrong).rejects.toThrow();
  });

  test("a header-key upstream wants its header", async () => {
    const server = await upstream({ auth: { kind: "header", header: "x-api-key", value: "k1" } });
    const client = await connect(server.url, {}, { requestInit: { headers: { "x-api-key": "k1" } } });
    expect((await client.listTools()).tools.length).toBe(builtinToolNames.length);
    expect((await fetch(server.url, { method: "POST", body: "{}" })).status).toBe(401);
  });
});

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

function postInitialize(url: string, timeoutMs = 2000): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: initialize,
    signal: AbortSignal.timeout(timeoutMs),
  });
}

describe("startFaultyUpstream", () => {
  test("ok mode is a healthy MCP server with an echo tool", async () => {
    const server = await faulty("ok");
    const client = await connect(server.url, eras["2026-07-28"]);
    const echoed = await client.callTool({ name: "echo", arguments: { message: "hi" } });
    expect(echoed.content).toEqual([{ type: "text", text: "hi" }]);
    expect(server.hits).toBeGreaterThan(0);
  });

  test("http500, http429, http401 answer with their status", async () => {
    const server = await faulty("http500");
    expect((await postInitialize(server.url)).status).toBe(500);
    await server.setMode("http429");
    const limited = await postInitialize(server.url);
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "1"]);
    await server.setMode("http401");
    const denied = await postInitialize(server.url);
    expect([denied.status, denied.headers.get("www-authenticate")]).toEqual([401, 'Bearer error="invalid_token"']);
  });

  test("garbage and invalid-jsonrpc answer 200 with bodies no client can use", async () => {
    const server = await faulty("garbage");
    const garbage = await postInitialize(server.url);
    expect(garbage.headers.get("content-type")).toStartWith("application/json");
    await expect(garbage.json()).rejects.toThrow();
    await server.setMode("invalid-jsonrpc");
    expect(await (await postInitialize(server.url)).json()).toEqual({ hello: "world" });
  });

  test("hang never answers, slow answers after slowMs", async () => {
    const server = await faulty("hang", { slowMs: 100 });
    await expect(postInitialize(server.url, 200)).rejects.toThrow("timed out");
    await server.setMode("slow");
    const started = performance.now();
    expect((await postInitialize(server.url)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  test("drop-mid-sse cuts the event stream; huge streams ~50 MB", async () => {
    const server = await faulty("drop-mid-sse");
    const dropped = await postInitialize(server.url);
    expect(dropped.headers.get("content-type")).toBe("text/event-stream");
    await expect(dropped.text()).rejects.toThrow();
    await server.setMode("huge");
    const huge = await postInitialize(server.url);
    expect((await huge.arrayBuffer()).byteLength).toBeGreaterThan(50_000_000);
  });

  test("flap alternates ok and 500; refused closes the port and ok reopens it", async () => {
    const server = await faulty("flap");
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await postInitialize(server.url)).status);
    expect(statuses).toEqual([200, 500, 200, 500]);
    await server.setMode("refused");
    await expect(postInitialize(server.url)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await server.setMode("ok");
    expect((await postInitialize(server.url)).status).toBe(200);
  });

  test("list-changed-storm floods an open client with list_changed", async () => {
    const server = await faulty("ok");
    let heard = 0;
    const onChanged = (): void => void heard++;
    await connect(server.url, { listChanged: { tools: { debounceMs: 0, autoRefresh: false, onChanged } } });
    await waitFor(() => server.healthy.openStreams() === 1, { timeoutMs: 2000 });
    await server.setMode("list-changed-storm");
    await waitFor(() => heard >= 50, { timeoutMs: 2000 });
  });
});

describe("startEverything", () => {
  test("the reference server lists its tools and echoes", async () => {
    const everything = await startEverything();
    cleanups.push(everything.stop);
    const client = await connect(everything.url, eras["2026-07-28"]);
    expect(client.getNegotiatedProtocolVersion()).toBe("2025-11-25");
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain("echo");
    const echoed = await client.callTool({ name: "echo", arguments: { message: "hi" } });
    expect(echoed.content).toEqual([{ type: "text", text: "Echo: hi" }]);
  });
});
