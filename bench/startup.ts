// Startup and footprint of the compiled binary: its size, the time from spawn to the first 200 on
// /healthz (a fresh, empty folder each run, so every run also creates the SQLite database, runs the
// migrations and makes the key file), and its resident memory after sitting idle.
//
//   bun run build && bun bench/startup.ts [--binary dist/mcp-gateway] [--runs 15] [--idle-ms 2000] [--warm]
//
// --warm reuses one folder that an untimed first run has set up: a restart rather than a first install.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    binary: { type: "string", default: "dist/mcp-gateway" },
    runs: { type: "string", default: "15" },
    "idle-ms": { type: "string", default: "2000" },
    warm: { type: "boolean", default: false },
  },
});
const binary = resolve(values.binary!);
const runs = Number(values.runs);
const idleMs = Number(values["idle-ms"]);

type Sample = { readyMs: number; rssKb: number };

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line?.match(/(\d+)/)?.[1] ?? Number.NaN);
}

async function measureOnce(warmFolder: string | null): Promise<Sample> {
  const folder = warmFolder ?? mkdtempSync(join(tmpdir(), "mgw-bench-"));
  const port = freePort();
  const url = `http://127.0.0.1:${port}/healthz`;
  const started = performance.now();
  // DATA_DIR unset: the binary makes ./data in the empty folder, as on a first install.
  const child = Bun.spawn([binary, "serve"], {
    cwd: folder,
    env: { PATH: "/usr/bin:/bin", PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" },
    stdout: "ignore",
    stderr: "inherit",
  });
  try {
    let readyMs = Number.NaN;
    while (Number.isNaN(readyMs)) {
      if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}`);
      if (performance.now() - started > 15_000) throw new Error("no 200 on /healthz within 15 s");
      try {
        const response = await fetch(url);
        if (response.status === 200) readyMs = performance.now() - started;
        await response.arrayBuffer();
      } catch {
        await Bun.sleep(1);
      }
    }
    await Bun.sleep(idleMs);
    return { readyMs, rssKb: rssKb(child.pid) };
  } finally {
    child.kill("SIGTERM");
    await child.exited;
    if (!warmFolder) rmSync(folder, { recursive: true, force: true });
  }
}

function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

function summary(values: number[]): { min: number; median: number; p90: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), max: sorted[sorted.length - 1]! };
}

const sizeBytes = statSync(binary).size;
const warmFolder = values.warm ? mkdtempSync(join(tmpdir(), "mgw-bench-warm-")) : null;
if (warmFolder) await measureOnce(warmFolder);
const samples: Sample[] = [];
for (let i = 0; i < runs; i++) samples.push(await measureOnce(warmFolder));
if (warmFolder) rmSync(warmFolder, { recursive: true, force: true });

const ready = summary(samples.map((s) => s.readyMs));
const rss = summary(samples.map((s) => s.rssKb / 1024));
const machine = `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), Linux ${process.platform === "linux" ? readFileSync("/proc/sys/kernel/osrelease", "utf8").trim() : process.platform}, Bun ${Bun.version}`;
const f = (n: number): string => n.toFixed(1);

process.stdout.write(`binary: ${binary}
machine: ${machine}
runs: ${runs}, ${warmFolder ? "each reusing one set-up folder (a restart)" : "each in an empty folder (a first start)"}; RSS read ${idleMs} ms after the first 200

binary size: ${f(sizeBytes / 1024 / 1024)} MiB (${sizeBytes} bytes)

| measure | min | median | p90 | max |
|---|---|---|---|---|
| spawn → first 200 on /healthz (ms) | ${f(ready.min)} | ${f(ready.median)} | ${f(ready.p90)} | ${f(ready.max)} |
| idle RSS (MiB) | ${f(rss.min)} | ${f(rss.median)} | ${f(rss.p90)} | ${f(rss.max)} |
`);
