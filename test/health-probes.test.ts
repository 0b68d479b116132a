import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnGateway, type GatewayProcess } from "./helpers/process.ts";

/**
 * Load balancers probe with whatever request shape they were built with: HAProxy's default check is
 * `OPTIONS / HTTP/1.0` with no Host header at all. These go over a raw socket, byte for byte, to a
 * real gateway process, because fetch() always adds a Host.
 */

type RawAnswer = { status: number; headers: Map<string, string>; body: string; raw: string };

/** Sends `text` as is and reads one response (by its Content-Length, or until the server closes). */
function sendRaw(port: number, text: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    let received = Buffer.alloc(0);
    const finish = (): void => {
      socket.destroy();
      const raw = received.toString("utf8");
      const split = raw.indexOf("\r\n\r\n");
      const head = split === -1 ? raw : raw.slice(0, split);
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: split === -1 ? "" : raw.slice(split + 4), raw });
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const split = received.indexOf("\r\n\r\n");
      if (split === -1) return;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(received.subarray(0, split).toString("latin1"));
      if (length && received.length >= split + 4 + Number(length[1])) finish();
    });
    socket.on("end", finish);
    socket.on("error", reject);
  });
}

/** What an error page must never carry: source lines, file paths, stack frames. */
function expectNothingInternal(answer: RawAnswer): void {
  expect(answer.raw).not.toContain(process.cwd());
  expect(answer.raw).not.toContain("/src/");
  expect(answer.raw).not.toMatch(/\.tsx?:\d+/);
  expect(answer.raw).not.toMatch(/\bat \S+ \(/);
  expect(answer.raw.length).toBeLessThan(8 * 1024);
}

describe("health checks from a load balancer", () => {
  let folder: string;
  let gateway: GatewayProcess;
  let port: number;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "mgw-probes-"));
    gateway = await spawnGateway({ DATA_DIR: join(folder, "data") });
    port = Number(new URL(gateway.url).port);
  });
  afterAll(async () => {
    gateway?.child.kill();
    await gateway?.child.exited;
    rmSync(folder, { recursive: true, force: true });
  });

  test("GET /healthz and /readyz over HTTP/1.0 without a Host header answer 200 with JSON", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const answer = await sendRaw(port, `GET ${path} HTTP/1.0\r\n\r\n`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toContain("application/json");
      expect(JSON.parse(answer.body).ok).toBe(true);
    }
  });

  test("HAProxy's default check (OPTIONS / HTTP/1.0, no Host) answers 2xx", async () => {
    const answer = await sendRaw(port, "OPTIONS / HTTP/1.0\r\n\r\n");
    expect(answer.status).toBeGreaterThanOrEqual(200);
    expect(answer.status).toBeLessThan(300);
    expectNothingInternal(answer);
  });

  test("health answers under a Host header that is not a host name at all", async () => {
    for (const host of ["a b", "[zz", ""]) {
      const answer = await sendRaw(port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(answer.status).toBe(200);
    }
  });

  test("anything else without a usable Host is refused plainly, never with a page that shows source or paths", async () => {
    for (const request of [
      "GET /sign-in HTTP/1.0\r\n\r\n",
      "GET /api/v1/mcp HTTP/1.0\r\n\r\n",
      "POST /api/v1/mcp HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
      "GET /x HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n",
      "GET http://127.0.0.1/sign-in HTTP/1.0\r\n\r\n",
    ]) {
      const answer = await sendRaw(port, request);
      expect(answer.status).toBe(421);
      expectNothingInternal(answer);
    }
  });
});
