import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGuardedFetch, UpstreamUrlRefused } from "./guarded-fetch.ts";
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
