// Runs the official MCP conformance suite (server mode) against the gateway's /api/v1/mcp.
// The suite cannot send an Authorization header, so a loopback proxy adds the gateway API key and
// forwards everything else untouched (Origin included, for the DNS-rebinding scenario). The gateway's
// BASE_URL is the proxy's URL, as it would be behind any reverse proxy.
import { seedOwner, startTestGateway } from "../test/helpers/gateway.ts";

const baseline = "conformance/server-baseline.yml";
let target = "";
let key = "";
const proxy = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 120,
  async fetch(request) {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${key}`);
    headers.delete("host");
    const response = await fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer(),
      redirect: "manual",
    });
    return new Response(response.body, response);
  },
});
const proxyUrl = `http://127.0.0.1:${proxy.port}`;
const gateway = await startTestGateway({ env: { BASE_URL: proxyUrl, LOG_LEVEL: "warn" } });
target = gateway.url;
key = (await seedOwner(gateway)).key;

const run = Bun.spawn(
  ["bun", "node_modules/@modelcontextprotocol/conformance/dist/index.js", "server", "--url", `${proxyUrl}/api/v1/mcp`, "--expected-failures", baseline, ...process.argv.slice(2)],
  { stdout: "inherit", stderr: "inherit" },
);
const code = await run.exited;
await gateway.stop();
proxy.stop(true);
process.exit(code);
