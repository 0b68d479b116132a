import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnGateway, type GatewayProcess } from "./helpers/process.ts";
import { DOCUMENT_FETCHES_PER_MINUTE } from "../src/oauth-server/clients.ts";
import { waitFor } from "./helpers/wait.ts";

const HUGE_DOCUMENT_BYTES = 50 * 1024 * 1024;

/**
 * The documents' https server: what each path got, and for /huge*, how much of its 50 MB it
 * managed to write (written only as fast as the reader takes it) and whether the reader left first.
 */
type Served = { hits: Map<string, number>; huge: { written: number; cancelled: number } };

function hugeDocument(served: Served): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
  let written = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (written === 0) controller.enqueue(new TextEncoder().encode('{"client_name":"'));
        if (written >= HUGE_DOCUMENT_BYTES) return controller.close();
        controller.enqueue(chunk);
        written += chunk.byteLength;
        served.huge.written += chunk.byteLength;
      },
      cancel() {
        served.huge.cancelled++;
      },
    },
    { highWaterMark: 0 },
  );
}

// A gateway process trusting a test certificate (NODE_EXTRA_CA_CERTS), so that its own guarded
// fetch reads client metadata documents from an https server on 127.0.0.1, as in production.
describe("Client ID Metadata Documents fetched for anyone who asks", () => {
  let folder = "";
  let documents: ReturnType<typeof Bun.serve>;
  let gateway: GatewayProcess;
  const served: Served = { hits: new Map(), huge: { written: 0, cancelled: 0 } };
  let base = "";

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "mgw-cimd-"));
    const [cert, key] = [join(folder, "cert.pem"), join(folder, "key.pem")];
    const made = Bun.spawnSync(
      ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
        .concat(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert]),
      { stdout: "ignore", stderr: "pipe" },
    );
    if (made.exitCode !== 0) throw new Error(made.stderr.toString());
    documents = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 30,
      tls: { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") },
      fetch(request) {
        const path = new URL(request.url).pathname;
        served.hits.set(path, (served.hits.get(path) ?? 0) + 1);
        if (path.startsWith("/huge")) return new Response(hugeDocument(served), { headers: { "content-type": "application/json" } });
        if (path === "/good.json") {
          return Response.json({ client_id: `${base}/good.json`, client_name: "Doc Agent", redirect_uris: ["http://127.0.0.1:3000/cb"], token_endpoint_auth_method: "none" });
        }
        return new Response("not here", { status: 404 });
      },
    });
    base = `https://localhost:${documents.port}`;
    gateway = await spawnGateway({ DATA_DIR: join(folder, "data"), UPSTREAM_ALLOW: "127.0.0.1,localhost", NODE_EXTRA_CA_CERTS: cert, LOG_LEVEL: "debug" });
  });
  afterAll(async () => {
    gateway?.child.kill();
    await gateway?.child.exited;
    await documents?.stop(true);
    rmSync(folder, { recursive: true, force: true });
  });

  function authorize(clientId: string): Promise<Response> {
    const query = new URLSearchParams({ client_id: clientId, response_type: "code", code_challenge: "x".repeat(43), code_challenge_method: "S256" });
    return fetch(`${gateway.url}/oauth/authorize?${query}`, { redirect: "manual" });
  }

  test("a good document is fetched through the guard and used (the request goes on to sign-in)", async () => {
    const response = await authorize(`${base}/good.json`);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/sign-in");
  });

  test("a 50 MB document: the gateway stops reading at 16 KiB; the server never gets to write most of it", async () => {
    const response = await authorize(`${base}/huge.json`);
    expect(response.status).toBe(400);
    await waitFor(() => served.huge.cancelled > 0, { timeoutMs: 1000, what: "the document's server to see the read cancelled" });
    expect(served.huge.cancelled).toBe(1);
    // 16 KiB read, plus whatever the socket buffers held on the way (a few MiB on loopback).
    expect(served.huge.written).toBeLessThan(HUGE_DOCUMENT_BYTES / 5);
    // Log lines are written every few milliseconds (log.ts).
    await waitFor(() => gateway.output().includes("The client's metadata document is larger than 16 KiB."), { timeoutMs: 2000, what: "the refusal in the gateway's log" });
  });

  test("a refused document is not fetched again within the refusal window, and the page tells nothing of what answered", async () => {
    const pages = await Promise.all([1, 2, 3].map(() => authorize(`${base}/missing.json`).then((r) => r.text())));
    const again = await (await authorize(`${base}/missing.json`)).text();
    expect(served.hits.get("/missing.json")).toBe(1);
    for (const page of [...pages, again]) {
      expect(page).toContain("The gateway could not use this client&#x27;s metadata document.");
      expect(page).not.toContain("404");
      expect(page).not.toContain("127.0.0.1");
    }
    const reference = again.match(/reference (\w+)/)?.[1];
    expect(reference).toBeDefined();
    await waitFor(() => gateway.output().includes("answered HTTP 404"), { timeoutMs: 2000, what: "what answered, in the gateway's log" });
  });

  test("where a name resolves, or what refused the connection, stays off the page", async () => {
    // A port nothing listens on: the server there refuses the connection.
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const port = closed.port;
    await closed.stop(true);
    const refused = await (await authorize(`https://localhost:${port}/closed.json`)).text();
    const loopback = await (await authorize("https://127.0.0.2/doc.json")).text();
    for (const page of [refused, loopback]) {
      expect(page).toContain("The gateway could not use this client&#x27;s metadata document.");
      expect(page).not.toMatch(/loopback|resolves|refused the connection|ECONNREFUSED|Unable to connect/i);
    }
  });

  test(`parallel requests for new documents from one address: ${DOCUMENT_FETCHES_PER_MINUTE} a minute are fetched, the rest get 429`, async () => {
    const before = served.huge.cancelled;
    // This address already spent some of its minute above: count what is left by asking for more than the limit.
    const responses = await Promise.all(Array.from({ length: DOCUMENT_FETCHES_PER_MINUTE + 5 }, (_, i) => authorize(`${base}/huge-${i}.json`)));
    const statuses = responses.map((r) => r.status);
    const limited = responses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s !== 429).every((s) => s === 400)).toBe(true);
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited[0]!.text()).toContain("Too many client metadata documents were fetched for this address");
    const fetched = [...served.hits.keys()].filter((path) => path.startsWith("/huge-")).length;
    expect(fetched).toBe(statuses.filter((s) => s === 400).length);
    expect(fetched).toBeLessThanOrEqual(DOCUMENT_FETCHES_PER_MINUTE);
    await waitFor(() => served.huge.cancelled - before >= fetched, { timeoutMs: 2000, what: "every refused read to be cancelled" });
    expect(served.huge.cancelled - before).toBe(fetched);
  });
});
