// `bun bench/dashboard-size.ts`: the HTML a connection's page and its pick step weigh, and how long
// the gateway takes to render them, for a server with 10 tools and one with 500 (issue 16: under
// 200 KB, and about as fast). Every tool has a 240-character description, as real servers do.
// In-process gateway on loopback; measured, never asserted.
import { createMcpHandler, Server } from "@modelcontextprotocol/server";
import { seedOwner, signIn, startTestGateway } from "../test/helpers/gateway.ts";
import { addConnection } from "../src/connections/add.ts";
import type { Principal } from "../src/accounts/principal.ts";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 30);
const DESCRIPTION = "Looks up records by a query and returns the matching ones with their fields. ".repeat(4).slice(0, 240);

function startManyTools(count: number): { url: string; stop(): Promise<void> } {
  const tools = Array.from({ length: count }, (_, i) => ({
    name: `tool_${String(i).padStart(3, "0")}`,
    description: DESCRIPTION,
    inputSchema: { type: "object" as const, properties: { query: { type: "string" } } },
  }));
  const handler = createMcpHandler(() => {
    const server = new Server({ name: "many", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler("tools/list", () => ({ tools }));
    server.setRequestHandler("tools/call", () => ({ content: [{ type: "text", text: "ok" }] }));
    return server;
  });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => handler.fetch(request) });
  async function stop(): Promise<void> {
    await server.stop(true);
    await handler.close();
  }
  return { url: `http://127.0.0.1:${server.port}/mcp`, stop };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const t = await startTestGateway();
const { workspaceId, userId } = await seedOwner(t);
const cookie = await signIn(t);
const principal: Principal = { workspaceId, userId, role: "owner", email: "owner@example.com" } as Principal;
const rows: string[] = [];
for (const count of [10, 500]) {
  const upstream = startManyTools(count);
  const added = await addConnection(t.gateway.deps, principal, { name: `many-${count}`, url: upstream.url, auth: { kind: "none" } });
  if (!added.ok) throw new Error(JSON.stringify(added.errors));
  for (const [label, path] of [
    ["connection page", `/connections/${added.connection.id}`],
    ["pick step", `/connections/${added.connection.id}/expose`],
  ] as const) {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const start = performance.now();
      const response = await fetch(`${t.url}${path}`, { headers: { cookie } });
      bytes = (await response.arrayBuffer()).byteLength;
      times.push(performance.now() - start);
    }
    rows.push(`| ${count} | ${label} | ${(bytes / 1024).toFixed(1)} KB | ${median(times).toFixed(1)} ms |`);
  }
  await upstream.stop();
}
await t.stop();
console.log(`| tools | page | HTML | median time (${REQUESTS} requests) |\n|---|---|---|---|\n${rows.join("\n")}`);
