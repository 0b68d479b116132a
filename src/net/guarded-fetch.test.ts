import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { createGuardedFetch, ResponseTooLarge, UpstreamUrlRefused } from "./guarded-fetch.ts";
import { parseUpstreamAllow, type Resolver, type UpstreamAllowList } from "./url-policy.ts";

type Seen = { method: string; host: string | null; authorization: string | null; apiKey: string | null; body: string };

function allowList(value: string): UpstreamAllowList {
  const parsed = parseUpstreamAllow(value);
  if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
  return parsed.allow;
}

// Names that real DNS cannot answer: a request only reaches the server if the checked IP is used.
const resolve: Resolver = async (hostname) => {
  const answers: Record<string, string[]> = { "upstream.test": ["127.0.0.1"], "metadata.test": ["169.254.169.254"] };
  const found = answers[hostname];
  if (!found) throw new Error(`ENOTFOUND ${hostname}`);
  return found;
};

let releaseStream = (): void => {};
let loopHits = 0;
/** What the /flood route managed to hand to the socket, and whether the reader went away first. */
const flood = { written: 0, cancelled: false };
const FLOOD_BYTES = 50 * 1024 * 1024;
const GZIP_BOMB = gzipSync(Buffer.alloc(8 * 1024 * 1024, 97));

/** Written only as fast as the reader takes it (pull, no queue): what was written is what was read or in flight. */
function floodBody(): ReadableStream<Uint8Array> {
  flood.written = 0;
  flood.cancelled = false;
  const chunk = new Uint8Array(64 * 1024).fill(97);
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (flood.written >= FLOOD_BYTES) return controller.close();
        controller.enqueue(chunk);
        flood.written += chunk.byteLength;
      },
      cancel() {
        flood.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
}

/** Small events, forever: a listen stream that is healthy however long it lives. */
function eventsBody(count: number, eventBytes: number): ReadableStream<string> {
  let sent = 0;
  return new ReadableStream<string>({
    pull(controller) {
      if (sent++ >= count) return controller.close();
      controller.enqueue(`data: ${"x".repeat(eventBytes)}\r\n\r\n`);
    },
  });
}

function startUpstream(): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname === "/redirect") {
        const status = Number(url.searchParams.get("status") ?? 307);
        return new Response(null, { status, headers: { location: url.searchParams.get("to") ?? "/" } });
      }
      if (url.pathname === "/loop") {
        loopHits++;
        return new Response(null, { status: 302, headers: { location: "/loop" } });
      }
      if (url.pathname === "/sse") {
        const released = new Promise<void>((resolve) => (releaseStream = resolve));
        const stream = new ReadableStream<string>({
          async start(controller) {
            controller.enqueue("data: one\n\n");
            await released;
            controller.enqueue("data: two\n\n");
            controller.close();
          },
        });
        return new Response(stream, { headers: { "content-type": "text/event-stream" } });
      }
      if (url.pathname === "/flood") return new Response(floodBody(), { headers: { "content-type": url.searchParams.get("type") ?? "application/json" } });
      if (url.pathname === "/declared") return new Response("x".repeat(Number(url.searchParams.get("bytes"))), { headers: { "content-type": "application/json" } });
      if (url.pathname === "/gzip") return new Response(GZIP_BOMB, { headers: { "content-type": "application/json", "content-encoding": "gzip" } });
      if (url.pathname === "/events") {
        const body = eventsBody(Number(url.searchParams.get("count")), Number(url.searchParams.get("size")));
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      }
      if (url.pathname === "/stall") {
        const stream = new ReadableStream<string>({
          start(controller) {
            controller.enqueue("{");
            request.signal.addEventListener("abort", () => controller.close());
          },
        });
        return new Response(stream, { headers: { "content-type": "application/json" } });
      }
      if (url.pathname === "/hang") {
        return new Promise<Response>((resolve) => {
          request.signal.addEventListener("abort", () => resolve(new Response("too late")));
        });
      }
      const seen: Seen = {
        method: request.method,
        host: request.headers.get("host"),
        authorization: request.headers.get("authorization"),
        apiKey: request.headers.get("x-api-key"),
        body: await request.text(),
      };
      return Response.json(seen);
    },
  });
}

const home = startUpstream();
const elsewhere = startUpstream();
const guardedFetch = createGuardedFetch({ allow: allowList("127.0.0.1"), resolve });
const homeUrl = `http://127.0.0.1:${home.port}`;
const elsewhereUrl = `http://127.0.0.1:${elsewhere.port}`;
const credentials = { authorization: "Bearer upstream-secret", "x-api-key": "key-secret" };

afterAll(() => {
  home.stop(true);
  elsewhere.stop(true);
});

async function refusal(promise: Promise<unknown>): Promise<UpstreamUrlRefused> {
  const error = await promise.then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(UpstreamUrlRefused);
  return error as UpstreamUrlRefused;
}

describe("guarded fetch", () => {
  test("connects to the checked IP and sends the original Host", async () => {
    const response = await guardedFetch(`http://upstream.test:${home.port}/echo`);
    expect(((await response.json()) as Seen).host).toBe(`upstream.test:${home.port}`);
    expect(response.url).toBe(`http://upstream.test:${home.port}/echo`);
    expect(response.redirected).toBe(false);
  });

  test("a refused URL rejects with UpstreamUrlRefused and its reason", async () => {
    const metadata = await refusal(guardedFetch("http://169.254.169.254/latest/meta-data"));
    expect(metadata.reason).toBe("169.254.169.254 is a link-local (cloud metadata) address; an operator can allow it with UPSTREAM_ALLOW");
    const named = await refusal(guardedFetch("https://metadata.test/"));
    expect(named.reason).toContain("metadata.test resolves to 169.254.169.254");
  });

  test("a redirect to a disallowed target is refused, not followed", async () => {
    for (const to of ["http://127.0.0.2/", "http://metadata.test/latest/meta-data", "http://[::1]/", "https://10.0.0.1/"]) {
      const error = await refusal(guardedFetch(`${homeUrl}/redirect?status=302&to=${encodeURIComponent(to)}`));
      expect(error.reason).toContain("an operator can allow it with UPSTREAM_ALLOW");
    }
  });

  test("a same-origin 307 is followed with its method, body and Authorization", async () => {
    const response = await guardedFetch(`${homeUrl}/redirect?status=307&to=/echo`, {
      method: "POST",
      headers: credentials,
      body: '{"jsonrpc":"2.0"}',
    });
    expect(await response.json()).toEqual({
      method: "POST",
      host: `127.0.0.1:${home.port}`,
      authorization: "Bearer upstream-secret",
      apiKey: "key-secret",
      body: '{"jsonrpc":"2.0"}',
    });
    expect(response.url).toBe(`${homeUrl}/echo`);
    expect(response.redirected).toBe(true);
  });

  test("a redirect to another origin is followed without Authorization, other credentials or body", async () => {
    const to = encodeURIComponent(`${elsewhereUrl}/echo`);
    const response = await guardedFetch(`${homeUrl}/redirect?status=307&to=${to}`, {
      method: "POST",
      headers: credentials,
      body: "secret body",
    });
    expect(await response.json()).toEqual({
      method: "POST",
      host: `127.0.0.1:${elsewhere.port}`,
      authorization: null,
      apiKey: null,
      body: "",
    });
  });

  test("a 303 turns a POST into a GET without a body", async () => {
    const response = await guardedFetch(`${homeUrl}/redirect?status=303&to=/echo`, {
      method: "POST",
      headers: { ...credentials, "content-type": "application/json" },
      body: "{}",
    });
    expect(await response.json()).toMatchObject({ method: "GET", authorization: "Bearer upstream-secret", body: "" });
  });

  test("gives up after maxRedirects", async () => {
    loopHits = 0;
    const fetchTwice = createGuardedFetch({ allow: allowList("127.0.0.1"), maxRedirects: 2 });
    await expect(fetchTwice(`${homeUrl}/loop`)).rejects.toThrow("redirected more than 2 times");
    expect(loopHits).toBe(3);
  });

  test('redirect: "manual" hands the redirect back', async () => {
    const response = await guardedFetch(`${homeUrl}/redirect?status=301&to=/echo`, { redirect: "manual" });
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe("/echo");
  });

  test("streams a response body as it arrives", async () => {
    const response = await guardedFetch(`${homeUrl}/sse`);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe("data: one\n\n");
    releaseStream();
    expect((await reader.read()).value).toBe("data: two\n\n");
    expect((await reader.read()).done).toBe(true);
  });

  test("an AbortSignal cancels the request", async () => {
    const controller = new AbortController();
    const pending = guardedFetch(`${homeUrl}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await pending.then(() => null, (caught: unknown) => caught);
    expect((error as Error).name).toBe("AbortError");
  });
});

describe("guarded fetch: the byte budget, enforced while streaming", () => {
  const KIB = 1024;

  async function tooLarge(promise: Promise<unknown>): Promise<ResponseTooLarge> {
    const error = await promise.then(() => null, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(ResponseTooLarge);
    return error as ResponseTooLarge;
  }

  test("a body that outgrows the budget fails while it streams; the server is cut off long before its 50 MB", async () => {
    const small = createGuardedFetch({ allow: allowList("127.0.0.1"), budget: { maxBytes: 16 * KIB, deadlineMs: null } });
    const response = await small(`${homeUrl}/flood`);
    expect(response.status).toBe(200);
    const error = await tooLarge(response.text());
    expect(error.maxBytes).toBe(16 * KIB);
    expect(error.message).toBe("the answer was larger than 16 KiB and was cut off");
    // Socket buffers on the way still fill up (a few MiB on loopback), but the rest is never written.
    for (let i = 0; i < 100 && !flood.cancelled; i++) await Bun.sleep(10);
    expect(flood.cancelled).toBe(true);
    expect(flood.written).toBeLessThan(FLOOD_BYTES / 4);
  });

  test("a declared Content-Length over the budget is refused before any of the body is read", async () => {
    const small = createGuardedFetch({ allow: allowList("127.0.0.1"), budget: { maxBytes: 16 * KIB, deadlineMs: null } });
    await tooLarge(small(`${homeUrl}/declared?bytes=${17 * KIB}`));
    expect(await (await small(`${homeUrl}/declared?bytes=${16 * KIB}`)).text()).toHaveLength(16 * KIB);
  });

  test("a compressed body is counted as it unpacks: 8 KiB of gzip that would be 8 MiB fails", async () => {
    expect(GZIP_BOMB.byteLength).toBeLessThan(16 * KIB);
    const small = createGuardedFetch({ allow: allowList("127.0.0.1"), budget: { maxBytes: 64 * KIB, deadlineMs: null } });
    await tooLarge((await small(`${homeUrl}/gzip`)).arrayBuffer());
  });

  test("without a budget of its own, a fetch holds at most DEFAULT_RESPONSE_BUDGET (1 MiB)", async () => {
    await tooLarge((await guardedFetch(`${homeUrl}/flood`)).arrayBuffer());
  });

  test("an event stream read per event passes any number of small events, and fails on one event over the budget", async () => {
    const perEvent = createGuardedFetch({ allow: allowList("127.0.0.1"), budget: { maxBytes: 4 * KIB, deadlineMs: 5_000, eventStreams: "per-event" } });
    const many = await (await perEvent(`${homeUrl}/events?count=200&size=1000`)).text();
    expect(many.length).toBeGreaterThan(100 * KIB);
    await tooLarge((await perEvent(`${homeUrl}/events?count=1&size=${5 * KIB}`)).text());
    // One endless line is one endless event.
    await tooLarge((await perEvent(`${homeUrl}/flood?type=text/event-stream`)).text());
    // The whole-body rule stays for other responses.
    const whole = createGuardedFetch({ allow: allowList("127.0.0.1"), budget: { maxBytes: 4 * KIB, deadlineMs: null } });
    await tooLarge((await whole(`${homeUrl}/events?count=200&size=1000`)).text());
  });

  test("the deadline covers the body too: a server that sends headers, then stalls, is given up", async () => {
    const quick = createGuardedFetch({ allow: allowList("127.0.0.1"), budget: { maxBytes: 16 * KIB, deadlineMs: 200 } });
    const response = await quick(`${homeUrl}/stall`);
    const error = await response.text().then(() => null, (caught: unknown) => caught);
    expect((error as Error).name).toBe("TimeoutError");
  });
});

describe.skipIf(Bun.which("openssl") === null)("guarded fetch over https", () => {
  let folder = "";
  const servers: ReturnType<typeof Bun.serve>[] = [];

  async function serveTls(name: string): Promise<{ port: number; ca: string }> {
    const [cert, key] = [join(folder, `${name}.crt`), join(folder, `${name}.key`)];
    const openssl = Bun.spawnSync(
      ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
        .concat(["-keyout", key, "-out", cert, "-subj", `/CN=${name}`, "-addext", `subjectAltName=DNS:${name}`]),
    );
    if (openssl.exitCode !== 0) throw new Error(openssl.stderr.toString());
    const ca = await Bun.file(cert).text();
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: ca, key: await Bun.file(key).text() },
      fetch: (request) => new Response(`hello ${request.headers.get("host")}`),
    });
    servers.push(server);
    return { port: server.port as number, ca };
  }

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), "guarded-fetch-"));
  });
  afterAll(() => {
    for (const server of servers) server.stop(true);
    rmSync(folder, { recursive: true, force: true });
  });

  test("verifies the certificate for the name while connecting to the IP", async () => {
    const { port, ca } = await serveTls("upstream.test");
    const response = await guardedFetch(`https://upstream.test:${port}/`, { tls: { ca } });
    expect(await response.text()).toBe(`hello upstream.test:${port}`);
  });

  test("refuses a certificate issued for another name", async () => {
    const { port, ca } = await serveTls("other.test");
    await expect(guardedFetch(`https://upstream.test:${port}/`, { tls: { ca } })).rejects.toThrow("ERR_TLS_CERT_ALTNAME_INVALID");
  });
});
