import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGuardedFetch, ResponseTooLarge } from "../src/net/guarded-fetch.ts";
import { AnswersInFlightFull } from "../src/net/response-budget.ts";
import { BytesInFlight } from "../src/net/bytes-in-flight.ts";
import { parseUpstreamAllow } from "../src/net/url-policy.ts";
import { waitFor } from "./helpers/wait.ts";

/**
 * Answers without a Content-Length, read at once through the guarded fetch, share one budget of
 * bytes: past it, the answer that would pass it is cut and its upstream stream cancelled, while
 * answers already within it are read to their end. A real server on loopback streams the bodies.
 */

const KIB = 1024;
const CHUNK = new Uint8Array(64 * KIB).fill(120);

describe("answers being read at once share a budget of bytes", () => {
  let server: ReturnType<typeof Bun.serve>;
  const cancelled = new Set<string>();

  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const url = new URL(request.url);
        const name = url.searchParams.get("name") ?? "";
        const total = Number(url.searchParams.get("bytes"));
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= total) return controller.close();
            controller.enqueue(CHUNK);
            sent += CHUNK.byteLength;
          },
          cancel() {
            cancelled.add(name);
          },
        });
        return new Response(body, { headers: { "content-type": "application/json" } });
      },
    });
  });
  afterAll(async () => {
    await server.stop(true);
  });

  function guarded(inFlight: BytesInFlight): typeof fetch {
    const allow = parseUpstreamAllow("127.0.0.1");
    if (!allow.ok) throw new Error(allow.errors.join("; "));
    return createGuardedFetch({ allow: allow.allow, budget: { maxBytes: 1024 * KIB, deadlineMs: null, inFlight } });
  }

  /** Reads `bytes` of the body (or all of it) and keeps the rest unread. */
  async function readSome(response: Response, bytes: number): Promise<{ read: number; reader: ReadableStreamDefaultReader<Uint8Array> }> {
    const reader = response.body!.getReader();
    let read = 0;
    while (read < bytes) {
      const { value, done } = await reader.read();
      if (done) break;
      read += value.byteLength;
    }
    return { read, reader };
  }

  test("an answer that would take the total past the budget is cut and its stream cancelled; one within it reads to its end", async () => {
    const inFlight = new BytesInFlight(1536 * KIB);
    const fetchGuarded = guarded(inFlight);
    const url = (name: string, bytes: number): string => `http://127.0.0.1:${server.port}/?name=${name}&bytes=${bytes}`;

    // A holds 768 KiB and is still being read.
    const a = await readSome(await fetchGuarded(url("a", 1000 * KIB)), 768 * KIB);
    expect(inFlight.inFlight).toBeGreaterThanOrEqual(768 * KIB);

    // B would pass its own cap of 1 MiB too, but the shared budget is what stops it first: it does
    // not fit beside A. (It is long, so that the server is still writing it when it is cut.)
    const b = await fetchGuarded(url("b", 64 * 1024 * KIB));
    const failure = await b.arrayBuffer().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AnswersInFlightFull);
    expect(failure).toBeInstanceOf(ResponseTooLarge);
    expect((failure as Error).message).toMatch(/already holding 1536 KiB of answers being read/);
    await waitFor(() => cancelled.has("b"), { timeoutMs: 5000, what: "the upstream to see its stream cancelled" });

    // A reads to its end, and gives its bytes back.
    let rest = 0;
    for (;;) {
      const { value, done } = await a.reader.read();
      if (done) break;
      rest += value.byteLength;
    }
    expect(a.read + rest).toBe(1024 * KIB);
    expect(inFlight.inFlight).toBe(0);

    // With A done, an answer as large as A fits again.
    expect((await (await fetchGuarded(url("c", 900 * KIB))).arrayBuffer()).byteLength).toBe(960 * KIB);
    expect(inFlight.inFlight).toBe(0);
  });

  test("an answer cut at its own cap gives its bytes back to the budget", async () => {
    const inFlight = new BytesInFlight(4096 * KIB);
    const fetchGuarded = guarded(inFlight);
    const failure = await (await fetchGuarded(`http://127.0.0.1:${server.port}/?name=big&bytes=${8192 * KIB}`)).arrayBuffer().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ResponseTooLarge);
    expect(failure).not.toBeInstanceOf(AnswersInFlightFull);
    expect(inFlight.inFlight).toBe(0);
  });
});
