// Runs the official MCP conformance suite (server mode) through the gateway, and says how the gateway
// compares with the upstream it relays. `.ci/run` runs it; it exits 1 when the gated run fails.
//
// 1. Gated: the suite's server scenarios through /api/v1/mcp/conformance, one connection's own URL,
//    whose upstream (test/helpers/conformance-upstream.ts) implements every scenario's fixtures, against
//    conformance/server-baseline.yml. The suite fails on a scenario that fails and is not in the
//    baseline, and also on one in the baseline that now passes (the baseline must shrink with it).
// 2. Reported: the same suite against @modelcontextprotocol/server-everything, straight and through
//    /api/v1/mcp/everything, side by side.
//
// The workspace endpoint (/api/v1/mcp) is not run: it is the same handler, checks and sessions with
// `connection__` names and the gateway's own tools, so every scenario that calls a fixture by its bare
// name fails there by design, and what else the suite checks the per-connection run checks as well.
//
// The suite cannot send an Authorization header, so a loopback proxy adds the gateway API key and
// forwards everything else untouched (Origin included, for the DNS-rebinding scenario). The gateway's
// BASE_URL is the proxy's URL, as it would be behind any reverse proxy.
//
//   bun scripts/conformance.ts            all of the above
//   bun scripts/conformance.ts --scenario tools-call-simple-text   (extra arguments go to the gated run)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedOwner, startTestGateway } from "../test/helpers/gateway.ts";
import { api } from "../test/helpers/client.ts";
import { startConformanceUpstream } from "../test/helpers/conformance-upstream.ts";
import { startEverything } from "../test/helpers/everything.ts";

const SUITE = "node_modules/@modelcontextprotocol/conformance/dist/index.js";
const BASELINE = "conformance/server-baseline.yml";

let target = "";
let key = "";
const proxy = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 120,
  async fetch(request) {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${key}`);
    headers.delete("host");
    const response = await fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer(),
      redirect: "manual",
    });
    return new Response(response.body, response);
  },
});
const proxyUrl = `http://127.0.0.1:${proxy.port}`;
const [gateway, fixture, everything] = await Promise.all([
  startTestGateway({ env: { BASE_URL: proxyUrl, LOG_LEVEL: "warn" } }),
  startConformanceUpstream(),
  startEverything(),
]);
const results = mkdtempSync(join(tmpdir(), "mgw-conformance-"));
let code = 1;
try {
  target = gateway.url;
  key = (await seedOwner(gateway)).key;
  const call = api(gateway.url, key);
  for (const [name, url] of [["conformance", fixture.url], ["everything", everything.url]] as const) {
    const added = await call("POST", "/api/v1/connections", { name, url, expose: "all" });
    if (added.status !== 201) throw new Error(`adding ${name} failed: ${added.status} ${JSON.stringify(added.json)}`);
  }

  heading(`The suite through ${proxyUrl}/api/v1/mcp/conformance (gated by ${BASELINE})`);
  code = await runSuite(`${proxyUrl}/api/v1/mcp/conformance`, ["--expected-failures", BASELINE, ...process.argv.slice(2)], "inherit");

  heading("server-everything, straight and through the gateway");
  const straight = await scenarioOutcomes(everything.url, join(results, "straight"));
  const through = await scenarioOutcomes(`${proxyUrl}/api/v1/mcp/everything`, join(results, "through"));
  printSideBySide(straight, through);
} finally {
  await Promise.all([gateway.stop(), fixture.stop(), everything.stop()]);
  proxy.stop(true);
  rmSync(results, { recursive: true, force: true });
}
process.exit(code);

function heading(text: string): void {
  console.log(`\n==== ${text}\n`);
}

async function runSuite(url: string, extra: string[], output: "inherit" | "ignore"): Promise<number> {
  const run = Bun.spawn(["bun", SUITE, "server", "--url", url, ...extra], { stdout: output, stderr: output });
  return run.exited;
}

type Outcome = "pass" | "fail";

/** Each scenario's outcome as the baseline judges it: any FAILURE or WARNING check fails it. */
async function scenarioOutcomes(url: string, dir: string): Promise<Map<string, Outcome>> {
  await runSuite(url, ["--output-dir", dir], "ignore");
  const outcomes = new Map<string, Outcome>();
  for (const entry of readdirSync(dir).toSorted()) {
    // <dir>/server-<scenario>-<ISO time with - for : and .>/checks.json
    const scenario = entry.replace(/^server-/, "").replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, "");
    const checks = JSON.parse(readFileSync(join(dir, entry, "checks.json"), "utf8")) as { status: string }[];
    outcomes.set(scenario, checks.some((check) => check.status === "FAILURE" || check.status === "WARNING") ? "fail" : "pass");
  }
  return outcomes;
}

function printSideBySide(straight: Map<string, Outcome>, through: Map<string, Outcome>): void {
  const scenarios = [...new Set([...straight.keys(), ...through.keys()])];
  const width = Math.max(...scenarios.map((s) => s.length), "scenario".length);
  console.log(`${"scenario".padEnd(width)}  straight  through the gateway`);
  for (const scenario of scenarios) {
    const a = straight.get(scenario) ?? "-";
    const b = through.get(scenario) ?? "-";
    // Marked: the gateway changes the outcome (either way).
    console.log(`${scenario.padEnd(width)}  ${a.padEnd(8)}  ${b}${a !== b ? "   <- differs" : ""}`);
  }
  const count = (m: Map<string, Outcome>): number => [...m.values()].filter((o) => o === "pass").length;
  console.log(`\npassed: ${count(straight)} of ${straight.size} straight, ${count(through)} of ${through.size} through the gateway`);
}
