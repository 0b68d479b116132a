// `bun bench/relay-floor.ts`: what any relay written on Bun costs on this machine, with no logic at
// all: a Bun.serve handler that reads the body, POSTs it to the upstream with fetch, and answers with
// what came back (no auth, no routing, no log, no checks). The same SDK echo upstream and SDK client
// as bench/run.ts, direct and through the bare relay, rounds alternating. It is the floor under the
// gateway's CPU per call (bench/README.md, "Issue 15"): the gateway cannot cost less than this.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { callLoad } from "./call-load.ts";
import { processCpuMs, spawnEchoUpstream } from "./peers.ts";
import { mainThreadCpuMs } from "./run.ts";

const CONCURRENCY = Number(process.env.BENCH_LEVELS ?? 16);
const CALLS = Number(process.env.BENCH_CALLS ?? 6000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** The bare relay, as its own process: `bun bench/relay-floor.ts --relay <upstream url>` prints its URL. */
function serveRelay(upstream: string): void {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const answer = await fetch(upstream, { method: "POST", body: await request.text(), headers: request.headers });
      return new Response(await answer.text(), { status: answer.status, headers: { "content-type": answer.headers.get("content-type") ?? "application/json" } });
    },
  });
  process.stdout.write(`http://127.0.0.1:${server.port}/mcp\n`);
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "bench", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } } as ConstructorParameters<typeof Client>[1]);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

async function main(): Promise<void> {
  const upstream = await spawnEchoUpstream();
  const relay = Bun.spawn(["bun", import.meta.path, "--relay", upstream.url], { stdout: "pipe", stderr: "inherit" });
  process.once("exit", () => relay.kill("SIGKILL"));
  const reader = relay.stdout.getReader();
  const relayUrl = new TextDecoder().decode((await reader.read()).value).trim();
  const clients = { direct: await connect(upstream.url), relay: await connect(relayUrl) };
  for (const client of Object.values(clients)) await callLoad(client, "echo", 4, 5000, 10_000);
  console.log(`| round | path | calls/s | p50 ms | relay CPU µs/call (all threads) | relay main thread µs/call | upstream CPU µs/call |`);
  console.log("|---|---|---|---|---|---|---|");
  for (let round = 1; round <= ROUNDS; round++) {
    for (const path of ["direct", "relay"] as const) {
      const relay0 = processCpuMs(relay.pid);
      const main0 = mainThreadCpuMs(relay.pid);
      const upstream0 = processCpuMs(upstream.pid);
      const run = await callLoad(clients[path], "echo", CONCURRENCY, CALLS, 20_000);
      const per = (ms: number): number => Math.round((ms * 1000) / run.n);
      const relayCpu = path === "relay" ? `${per(processCpuMs(relay.pid) - relay0)} | ${per(mainThreadCpuMs(relay.pid) - main0)}` : "– | –";
      console.log(`| ${round} | ${path} | ${run.perSecond} | ${run.p50} | ${relayCpu} | ${per(processCpuMs(upstream.pid) - upstream0)} |`);
    }
  }
  for (const client of Object.values(clients)) await client.close();
  relay.kill("SIGTERM");
  await upstream.stop();
}

if (process.argv[2] === "--relay") serveRelay(process.argv[3]!);
else if (import.meta.main) await main();
