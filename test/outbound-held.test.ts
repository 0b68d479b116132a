import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CallSignals, type CallTiming } from "../src/upstream/call-signals.ts";
import { OpenRequests } from "../src/upstream/open-requests.ts";
import { limitOutbound } from "../src/upstream/outbound-fetch.ts";
import { RetryAfterWindows } from "../src/upstream/retry-after.ts";

/**
 * An upstream answer read by its caller (`held`, as upstream/direct-call.ts reads it) holds its
 * open-request place and is timed until the caller says it is done, exactly once, however it
 * ended; the ordinary form says so itself when its body ends. A real server on loopback: one JSON
 * answer, and one stream that sends a first chunk and then nothing until it is aborted.
 */
let server: ReturnType<typeof Bun.serve>;
let base = "";

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      if (new URL(request.url).pathname === "/hang") {
        return new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode("data: first\n\n"));
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      return Response.json({ jsonrpc: "2.0", id: 0, result: {} });
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(() => {
  server.stop(true);
});

function limiter() {
  const open = new OpenRequests({ perConnection: 4, total: 8 });
  const ended: (CallTiming | undefined)[] = [];
  const calls = new CallSignals();
  const limited = limitOutbound(fetch, {
    connectionId: "c1",
    calls,
    open,
    waits: new RetryAfterWindows(),
    observe: { ended: (_seconds, timing) => ended.push(timing) },
  });
  return { limited, open, ended, calls };
}

const post = (signal?: AbortSignal): RequestInit => ({ method: "POST", body: "{}", headers: { "content-type": "application/json" }, ...(signal ? { signal } : {}) });

describe("an upstream answer its caller reads itself", () => {
  test("holds its place and is not timed until done; a second done changes nothing", async () => {
    const { limited, open, ended } = limiter();
    const held = await limited.held(`${base}/mcp`, post());
    expect(await held.response.json()).toEqual({ jsonrpc: "2.0", id: 0, result: {} });
    expect(open.count("c1")).toBe(1);
    expect(ended).toHaveLength(0);
    held.done();
    held.done();
    expect(open.count("c1")).toBe(0);
    expect(ended).toHaveLength(1);
  });

  test("a request aborted mid-answer gives its place back at once, and is timed once when its caller is done", async () => {
    const { limited, open, ended } = limiter();
    const controller = new AbortController();
    const held = await limited.held(`${base}/hang`, post(controller.signal));
    const reader = (held.response.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: first\n\n");
    expect(open.count("c1")).toBe(1);
    controller.abort(new Error("the call ended"));
    expect(open.count("c1")).toBe(0);
    await expect(reader.read()).rejects.toThrow();
    held.done();
    held.done();
    expect(ended).toHaveLength(1);
  });

  test("the ordinary form gives the place back and is timed once when its body has been read", async () => {
    const { limited, open, ended } = limiter();
    const response = await limited(`${base}/mcp`, post());
    expect(open.count("c1")).toBe(1);
    await response.text();
    expect(open.count("c1")).toBe(0);
    expect(ended).toHaveLength(1);
  });

  test("past the connection's bound nothing is sent, held or not", async () => {
    const { limited, open } = limiter();
    const held = await Promise.all(Array.from({ length: 4 }, () => limited.held(`${base}/mcp`, post())));
    expect(open.count("c1")).toBe(4);
    await expect(limited.held(`${base}/mcp`, post())).rejects.toThrow("as many requests open to this server");
    for (const answer of held) {
      await answer.response.text();
      answer.done();
    }
    expect(open.count("c1")).toBe(0);
  });
});
