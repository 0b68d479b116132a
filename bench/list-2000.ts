// The tools/list case of bench/run.ts: a gateway with 50 connections of 40 tools each, listed with a
// plain fetch POST of JSON-RPC (no SDK client parsing 2,000 definitions: the time is the gateway's),
// in both eras (a 2026-07-28 request is the fast relay's, fast-call.ts; a 2025-11-25 one the SDK's),
// one at a time and 64 at a time, then again with every upstream stopped: a list never waits on an
// upstream. Reports the gateway's CPU per list and its largest RSS while 64 lists run at once.
import { startUpstream, type Upstream } from "../test/helpers/upstream.ts";
import { processCpuMs, watchRss } from "./peers.ts";

const SERVERS = 50;
const TOOLS_EACH = 40;
const round = (x: number): number => Math.round(x * 100) / 100;

// A 2026-07-28 request carries its envelope in _meta (and Mcp-Method); a 2025-11-25 one is a stateless
// POST: one request, one answer, nothing negotiated first.
const ERA_HEADERS = { "2026-07-28": { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list" }, "2025-11-25": { "mcp-protocol-version": "2025-11-25" } };
const ERA_BODIES = {
  "2026-07-28": JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" } } } }),
  "2025-11-25": '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
};

type ListRun = { n: number; p50: number; p99: number; perSecond: number; cpuUsPerList: number; maxRssMiB: number };

export async function runListCase(gateway: { url: string; key: string; pid: number }, addConnection: (name: string, url: string) => Promise<void>, limitMs: number): Promise<string> {
  const upstreams: Upstream[] = await Promise.all(Array.from({ length: SERVERS }, () => startUpstream({ tools: [], extraToolCount: TOOLS_EACH })));
  for (const [i, u] of upstreams.entries()) await addConnection(`srv-${i}`, u.url);
  const request = (era: "2026-07-28" | "2025-11-25"): RequestInit => ({
    method: "POST",
    headers: { authorization: `Bearer ${gateway.key}`, "content-type": "application/json", accept: "application/json, text/event-stream", ...ERA_HEADERS[era] },
    body: ERA_BODIES[era],
  });
  const lister = (era: "2026-07-28" | "2025-11-25") => {
    const init = request(era);
    return async (): Promise<number> => {
      const response = await fetch(`${gateway.url}/api/v1/mcp`, init);
      const body = await response.text();
      if (response.status !== 200 || !body.includes('"tools"')) throw new Error(`tools/list answered ${response.status}: ${body.slice(0, 300)}`);
      return body.length;
    };
  };
  const modern = lister("2026-07-28");
  const legacy = lister("2025-11-25");
  const count = await countTools(gateway);
  await run(modern, 1, 50, limitMs); // warm-up
  await run(legacy, 1, 50, limitMs);
  const one = await run(modern, 1, 500, limitMs, gateway.pid);
  const many = await run(modern, 64, 2000, limitMs, gateway.pid);
  const oneLegacy = await run(legacy, 1, 500, limitMs, gateway.pid);
  const manyLegacy = await run(legacy, 64, 2000, limitMs, gateway.pid);
  for (const u of upstreams) await u.stop();
  const down = await run(modern, 1, 500, limitMs, gateway.pid);
  const row = (label: string, r: ListRun): string => `| ${label} | ${r.n} | ${r.p50} | ${r.p99} | ${r.perSecond} | ${r.cpuUsPerList} | ${r.maxRssMiB} |`;
  return `
#### tools/list of ${count} tools (${SERVERS} connections × ${TOOLS_EACH} + the gateway's own), raw JSON-RPC over fetch (ms)

| case | lists | p50 | p99 | lists/s | gateway CPU µs/list | gateway max RSS MiB |
|---|---|---|---|---|---|---|
${row("2026-07-28, c=1, upstreams up", one)}
${row("2026-07-28, c=64, upstreams up", many)}
${row("2025-11-25, c=1, upstreams up", oneLegacy)}
${row("2025-11-25, c=64, upstreams up", manyLegacy)}
${row("2026-07-28, c=1, every upstream stopped", down)}
`;
}

async function countTools(gateway: { url: string; key: string }): Promise<number> {
  const response = await fetch(`${gateway.url}/api/v1/mcp`, {
    method: "POST",
    headers: { authorization: `Bearer ${gateway.key}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  });
  const text = await response.text();
  // Answered as JSON, or as one SSE event carrying it.
  const json = text.startsWith("{") ? text : (text.match(/^data: (.*)$/m)?.[1] ?? "{}");
  const tools = (JSON.parse(json) as { result?: { tools?: unknown[] } }).result?.tools;
  if (!tools) throw new Error(`tools/list gave no tools: ${text.slice(0, 300)}`);
  return tools.length;
}

async function run(list: () => Promise<number>, concurrency: number, total: number, limitMs: number, pid?: number): Promise<ListRun> {
  const samples: number[] = [];
  let issued = 0;
  const rss = pid ? watchRss(pid) : null;
  const cpuBefore = pid ? processCpuMs(pid) : 0;
  const started = performance.now();
  const stopAt = started + limitMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < total && performance.now() < stopAt) {
        issued++;
        const t0 = performance.now();
        await list();
        samples.push(performance.now() - t0);
      }
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = pid ? processCpuMs(pid) - cpuBefore : 0;
  const sorted = samples.sort((a, b) => a - b);
  const at = (q: number): number => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
  return { n: samples.length, p50: at(0.5), p99: at(0.99), perSecond: Math.round((samples.length / wallMs) * 1000), cpuUsPerList: Math.round((cpu * 1000) / samples.length), maxRssMiB: rss?.stop() ?? 0 };
}
