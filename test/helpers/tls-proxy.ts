import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type TlsProxy = {
  /** https://localhost:PORT — use it as the gateway's BASE_URL. */
  url: string;
  /** The self-signed certificate, to trust in `fetch(url, { tls: { ca } })`. */
  ca: string;
  /** Where requests go (the gateway's plain http address), set once it listens. */
  setTarget(target: string): void;
  fetch(url: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
};

/**
 * An https front for a gateway in tests, with a throwaway self-signed certificate for localhost
 * (made with openssl): what an operator's reverse proxy does, so that BASE_URL can be https.
 */
export async function startTlsProxy(): Promise<TlsProxy> {
  const dir = mkdtempSync(join(tmpdir(), "mgw-tls-"));
  const made = Bun.spawnSync([
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ], { stdout: "ignore", stderr: "pipe" });
  if (made.exitCode !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  const cert = readFileSync(join(dir, "cert.pem"), "utf8");
  const key = readFileSync(join(dir, "key.pem"), "utf8");
  rmSync(dir, { recursive: true, force: true });
  let target = "";
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert, key },
    async fetch(request) {
      const incoming = new URL(request.url);
      const headers = new Headers(request.headers);
      headers.set("x-forwarded-proto", "https");
      return fetch(`${target}${incoming.pathname}${incoming.search}`, {
        method: request.method,
        headers,
        body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer(),
        redirect: "manual",
      });
    },
  });
  const url = `https://localhost:${server.port}`;
  return {
    url,
    ca: cert,
    setTarget(value) {
      target = value;
    },
    fetch: (input, init) => fetch(input, { ...init, tls: { ca: cert } } as RequestInit),
    async stop() {
      await server.stop(true);
    },
  };
}
