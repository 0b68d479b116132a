// One closed-loop load run for bench/run.ts: `concurrency` callers share one client, each timing its
// own calls, until `calls` have been issued or `limitMs` has passed (a slow peer must not stretch
// the run past a few minutes). Every call is checked: the echo coming back is a success; a result
// saying the gateway queued and then refused it counts as refused; anything else is an error.
import type { CallToolResult, Client } from "@modelcontextprotocol/client";

export type LoadRun = { n: number; perSecond: number; p50: number; p99: number; errors: number; refused: number; firstError: string | null; wallMs: number };

const round = (x: number): number => Math.round(x * 100) / 100;

/** The gateway's refusal sentences (src/gateway/call.ts): "… calls in flight …", "… in its queue …". */
const REFUSED = /in flight|in its queue|calls waiting/;

export async function callLoad(client: Client, tool: string, concurrency: number, calls: number, limitMs: number): Promise<LoadRun> {
  const samples: number[] = [];
  let issued = 0;
  let errors = 0;
  let refused = 0;
  let firstError: string | null = null;
  const note = (text: string): void => {
    firstError ??= text.slice(0, 300);
  };
  const started = performance.now();
  const stopAt = started + limitMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < calls && performance.now() < stopAt) {
        const message = `hello ${issued++}`;
        const t0 = performance.now();
        try {
          const result = (await client.callTool({ name: tool, arguments: { message } })) as CallToolResult;
          samples.push(performance.now() - t0);
          const first = result.content[0];
          const text = first?.type === "text" ? first.text : JSON.stringify(result.content);
          if (!result.isError && text === message) continue;
          if (result.isError && REFUSED.test(text)) refused++;
          else errors++;
          note(text);
        } catch (error) {
          errors++;
          note(`thrown: ${String(error)}`);
        }
      }
    }),
  );
  const wallMs = performance.now() - started;
  const sorted = samples.sort((a, b) => a - b);
  const at = (q: number): number => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
  return { n: issued, perSecond: Math.round((issued / wallMs) * 1000), p50: at(0.5), p99: at(0.99), errors, refused, firstError, wallMs };
}
