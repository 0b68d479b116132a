// The processes bench/run.ts compares against the gateway, each started here on loopback as its own
// process so that its CPU and memory are its own: the SDK echo upstream, and mcp-hub (npm `mcp-hub`,
// a pinned dev dependency, run under Node) relaying to that upstream over streamable HTTP.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Peer = { url: string; pid: number; stop(): Promise<void> };

const root = join(import.meta.dir, "..");

/** Reads `child`'s stdout until `pattern` matches, then keeps draining it so the child never blocks on a full pipe. */
async function waitForLine(stdout: ReadableStream<Uint8Array>, pattern: RegExp, what: string): Promise<string> {
  const reader = stdout.getReader();
  let buffered = "";
  const deadline = setTimeout(() => void reader.cancel(), 20_000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${what} exited (or took over 20 s) before it was ready; its output: ${buffered.slice(-2000)}`);
      buffered += new TextDecoder().decode(value);
      const found = buffered.match(pattern)?.[1];
      if (found) {
        void (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done) {}
        })();
        return found;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
}

function stopper(child: Bun.Subprocess, cleanup: () => void = () => undefined): () => Promise<void> {
  process.once("exit", () => child.kill("SIGKILL"));
  return async () => {
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await child.exited;
    clearTimeout(killer);
    cleanup();
  };
}

/** bench/echo-upstream.ts in its own Bun process. */
export async function spawnEchoUpstream(): Promise<Peer> {
  const child = Bun.spawn(["bun", "bench/echo-upstream.ts"], { cwd: root, stdout: "pipe", stderr: "inherit" });
  const url = await waitForLine(child.stdout, /^(http:\S+)$/m, "the echo upstream");
  return { url, pid: child.pid, stop: stopper(child) };
}

/**
 * mcp-hub 4.2.1 with one streamable-HTTP upstream. What it serves its own clients is the older
 * HTTP+SSE transport (GET /mcp opens the stream, POST /messages?sessionId=… carries requests), so
 * the bench talks to it with the SDK's SSEClientTransport; its tools are named `<server>__<tool>`.
 * Its state, logs and caches go to a temporary HOME; a seeded marketplace cache keeps it from
 * fetching its registry from the internet at start.
 */
export async function spawnMcpHub(upstreamUrl: string): Promise<Peer> {
  const home = mkdtempSync(join(tmpdir(), "mgw-bench-hub-"));
  const config = join(home, "mcp-hub.json");
  writeFileSync(config, JSON.stringify({ mcpServers: { bench: { url: upstreamUrl } } }));
  const xdg = { HOME: home, XDG_CONFIG_HOME: join(home, "config"), XDG_STATE_HOME: join(home, "state"), XDG_DATA_HOME: join(home, "data"), XDG_CACHE_HOME: join(home, "cache") };
  const marketplace = join(xdg.XDG_DATA_HOME, "mcp-hub", "cache");
  mkdirSync(marketplace, { recursive: true });
  // A catalog it believes fresh (one made-up entry: an empty list counts as stale).
  writeFileSync(join(marketplace, "registry.json"), JSON.stringify({ registry: { servers: [{ id: "none", name: "none", description: "", tags: [] }] }, lastFetchedAt: Date.now(), serverDocumentation: {} }));
  const port = await freePort();
  const child = Bun.spawn(["node", "--require", join(import.meta.dir, "loopback-listen.cjs"), join(root, "node_modules/mcp-hub/dist/cli.js"), "--port", String(port), "--config", config], {
    cwd: home,
    env: { ...process.env, ...xdg },
    stdout: "pipe",
    stderr: "pipe",
  });
  void new Response(child.stderr).arrayBuffer(); // drained; its close-time stack traces are noise
  // Ready once the upstream is connected, not only once it listens.
  await waitForLine(child.stdout, /("1\/1 servers started successfully")/, "mcp-hub");
  return { url: `http://127.0.0.1:${port}/mcp`, pid: child.pid, stop: stopper(child, () => rmSync(home, { recursive: true, force: true })) };
}

/** A port free on loopback right now (mcp-hub wants one named; it has no port 0). */
async function freePort(): Promise<number> {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port;
  await server.stop(true);
  if (port === undefined) throw new Error("no free port");
  return port;
}

/** CPU time (user + system, ms) the whole process — every thread — has used so far. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime; USER_HZ is 100 on Linux
}

/** The process's resident memory now and its high-water mark, MiB. */
export function memoryMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string): number => Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0);
  return { rss: Math.round(kib("VmRSS") / 1024), hwm: Math.round(kib("VmHWM") / 1024) };
}

/** Samples the process's RSS every 50 ms until stopped; returns the largest seen (MiB). */
export function watchRss(pid: number): { stop(): number } {
  let max = memoryMiB(pid).rss;
  const timer = setInterval(() => {
    max = Math.max(max, memoryMiB(pid).rss);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, memoryMiB(pid).rss);
    },
  };
}
