// `count` tool calls at once against the gateway, from their own process: a test process may have
// only 256 HTTP requests open at once (Bun's default), so a burst of a thousand callers is sent from
// here with the limit raised (see startBurst). Prints a dot per answered call, then one JSON
// line: each answer's text and how many calls got it. The key comes in the environment, never on the command line.
//   BURST_KEY=… bun test/helpers/burst.ts <gateway url> <tool> <count>
import type { CallToolResult } from "@modelcontextprotocol/client";
import { connectClient } from "./client.ts";

export type BurstResult = Record<string, number>;

export type Burst = { /** Calls answered so far. */ answered(): number; done: Promise<BurstResult> };

/** Starts the burst in a child process; `done` resolves with its tally once every call has answered. */
export function startBurst(gatewayUrl: string, key: string, tool: string, count: number): Burst {
  const child = Bun.spawn(["bun", import.meta.path, gatewayUrl, tool, String(count)], {
    env: { ...process.env, BURST_KEY: key, BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" },
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const read = (async () => {
    const decoder = new TextDecoder();
    const reader = child.stdout.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) out += decoder.decode(next.value, { stream: true });
  })();
  const done = (async () => {
    const [err, code] = await Promise.all([new Response(child.stderr).text(), child.exited, read]);
    if (code !== 0) throw new Error(`the burst exited with ${code}: ${err.slice(-2000)}`);
    return JSON.parse(out.slice(out.indexOf("\n") + 1)) as BurstResult;
  })();
  // One dot per answered call, before the tally's line.
  return { answered: () => out.split("\n")[0]!.length, done };
}

if (import.meta.main) {
  const [url, tool, count] = process.argv.slice(2);
  const key = process.env.BURST_KEY;
  if (!url || !tool || !count || !key) throw new Error("usage: BURST_KEY=… bun test/helpers/burst.ts <gateway url> <tool> <count>");
  const clients = await Promise.all(Array.from({ length: 4 }, () => connectClient(url, key)));
  const tally: BurstResult = {};
  await Promise.all(
    Array.from({ length: Number(count) }, async (_, i) => {
      let text: string;
      try {
        const result = (await clients[i % clients.length]!.callTool({ name: tool, arguments: { message: "hi" } }, { timeout: 120_000 })) as CallToolResult;
        text = result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
      } catch (error) {
        text = `client: ${String(error)}`;
      }
      tally[text] = (tally[text] ?? 0) + 1;
      process.stdout.write(".");
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
  process.stdout.write(`\n${JSON.stringify(tally)}\n`);
  process.exit(0);
}
