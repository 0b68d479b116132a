// The SDK echo upstream as its own process, so that its CPU is its own: `bun bench/echo-upstream.ts`
// prints its URL on the first line of stdout and serves until it is sent SIGTERM. Loopback only.
import { startUpstream } from "../test/helpers/upstream.ts";

const upstream = await startUpstream({ tools: ["echo"] });
process.stdout.write(`${upstream.url}\n`);
process.once("SIGTERM", () => {
  void upstream.stop().finally(() => process.exit(0));
});
