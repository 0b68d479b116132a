// `bun bench/sdk-floor.ts`: what the MCP SDK alone adds when one process relays a tools/call, with
// none of the gateway's own work (no key check, no routing, no access log, no guarded fetch). A
// separate process serves `createMcpHandler` with a low-level Server whose tools/call hands the call
// to one SDK client connected to the upstream: the least any SDK-built relay can cost. Measured as
// `bench/run.ts` measures the gateway (same fixture upstream, same client, alternating rounds), so
// the two "added p50" figures compare directly.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createMcpHandler, Server, type CallToolResult } from "@modelcontextprotocol/server";
import { startUpstream } from "../test/helpers/upstream.ts";
import { connectUpstream } from "../src/upstream/client.ts";
import { parseUpstreamAllow } from "../src/net/url-policy.ts";
import { CALLS, measure, median, round, ROUNDS, WARMUP, type Stats } from "./run.ts";

async function serveRelay(upstreamUrl: string): Promise<void> {
  const client = new Client({ name: "sdk-floor", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  await client.connect(new StreamableHTTPClientTransport(new URL(upstreamUrl)));
  const handler = createMcpHandler(
    () => {
      const server = new Server({ name: "sdk-floor", version: "1.0.0" }, { capabilities: { tools: {} } });
      server.setRequestHandler("tools/list", async () => ({ tools: [{ name: "bench__echo", inputSchema: { type: "object" } }] }));
      server.setRequestHandler("tools/call", async (request) => (await client.callTool({ name: "echo", arguments: request.params.arguments })) as CallToolResult);
      return server;
    },
    { legacy: "reject" },
  );
  const listening = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => handler.fetch(request) });
  console.log(`http://127.0.0.1:${listening.port}/mcp`);
}

async function main(): Promise<void> {
  const upstream = await startUpstream({ tools: ["echo"] });
  const relay = Bun.spawn(["bun", import.meta.path, "--serve", upstream.url], { stdout: "pipe", stderr: "inherit" });
  const relayUrl = new TextDecoder().decode((await relay.stdout.getReader().read()).value).trim();
  const viaRelay = new Client({ name: "bench", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  await viaRelay.connect(new StreamableHTTPClientTransport(new URL(relayUrl)));
  const allow = parseUpstreamAllow("127.0.0.1");
  if (!allow.ok) throw new Error(allow.errors.join("; "));
  const direct = await connectUpstream({ url: upstream.url, secret: null, allow: allow.allow });
  const args = { message: "hello" };
  await measure(4, WARMUP, () => direct.callTool({ name: "echo", arguments: args }));
  await measure(4, WARMUP, () => viaRelay.callTool({ name: "bench__echo", arguments: args }));
  const rounds: { d: Stats; r: Stats }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const d = await measure(1, CALLS, () => direct.callTool({ name: "echo", arguments: args }));
    const r = await measure(1, CALLS, () => viaRelay.callTool({ name: "bench__echo", arguments: args }));
    rounds.push({ d, r });
  }
  const added = (key: "p50" | "p99"): number[] => rounds.map(({ d, r }) => round(r[key] - d[key]));
  console.log(`\n## bare SDK relay, concurrency 1: ${CALLS} calls per run, ${ROUNDS} alternating rounds (ms)\n`);
  console.log("| added p50 | added p99 |");
  console.log("|---|---|");
  console.log(`| ${median(added("p50"))} (${added("p50").join(" / ")}) | ${median(added("p99"))} (${added("p99").join(" / ")}) |`);
  await viaRelay.close();
  await direct.close();
  relay.kill();
  await upstream.stop();
}

if (process.argv[2] === "--serve") await serveRelay(process.argv[3]!);
else await main();
