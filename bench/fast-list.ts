// `bun bench/fast-list.ts`: a raw 2026-07-28 tools/list of 2,003 tools (50 servers × 40 + 3 native),
// 500 sequential POSTs, with the fast relay and with FAST_RELAY=off, twice in alternation. run.ts's raw
// list is a 2025-11-25 POST, which the fast relay leaves to the SDK. Loopback only; bounded in count.
import { startUpstream, type Upstream } from "../test/helpers/upstream.ts";
import { addConnection, measure, spawnGateway } from "./run.ts";
const many: Upstream[] = await Promise.all(Array.from({ length: 50 }, () => startUpstream({ tools: [], extraToolCount: 40 })));
for (const mode of ["on", "off", "on", "off"]) {
  const gateway = await spawnGateway(mode === "off" ? { FAST_RELAY: "off" } : {});
  for (const [i, u] of many.entries()) await addConnection(gateway, `srv-${i}`, u.url);
  let bytes = 0;
  const rawList = async (): Promise<void> => {
    const response = await fetch(`${gateway.url}/api/v1/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${gateway.key}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/clientInfo": { name: "b", version: "1" } } } }),
    });
    bytes = (await response.arrayBuffer()).byteLength;
  };
  await measure(1, 50, rawList);
  const raw = await measure(1, 500, rawList);
  console.log(`FAST_RELAY=${mode} raw 2026 tools/list: p50 ${raw.p50} ms, p99 ${raw.p99} ms, ${raw.perSecond}/s, ${bytes} bytes, load ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}`);
  await gateway.stop();
}
for (const u of many) await u.stop();
