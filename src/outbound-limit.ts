/** The variable through which Bun takes its limit on outbound requests open at once. */
const VARIABLE = "BUN_CONFIG_MAX_HTTP_REQUESTS";
/** Above MAX_UPSTREAM_REQUESTS (2048 by default), with room for OAuth, SSO and metadata fetches. */
export const OUTBOUND_REQUEST_LIMIT = "4096";

/** The variable through which JavaScriptCore takes the RAM size it sizes its heap by (not a cap). */
const RAM_VARIABLE = "BUN_JSC_forceRAMSize";
/**
 * 256 MiB: the garbage collector works as on a small machine, so a busy gateway's heap stays near
 * what it holds instead of growing with the host's RAM. On this project's 2-core, 24 GiB bench box
 * at 64 concurrent calls the peak RSS fell from ~230 to ~160 MiB with no measurable CPU cost; 128
 * MiB held it at ~122 MiB for ~10% more CPU per call (bench/README.md, issue 15). More memory is
 * still allocated when more is live: it is a hint, not a limit.
 */
export const GC_RAM_SIZE = String(256 * 1024 * 1024);

/**
 * Bun allows 256 outbound requests at once, for all hosts together, and queues the rest: 256 calls
 * hung on one upstream would stall every other connection. It reads the limit once, at start-up
 * (checked on Bun 1.4.5: setting the variable from the running process changes nothing), so
 * `serve` starts itself again with the variable set, unless the operator set it; the same for the
 * heap's RAM size (GC_RAM_SIZE), which JavaScriptCore too reads only at start-up.
 */
export function needsOutboundLimit(env: Record<string, string | undefined>): boolean {
  return !env[VARIABLE] || !env[RAM_VARIABLE];
}

const SUPERVISED = "MCP_GATEWAY_RELAUNCHED";

/**
 * In the relaunched child: end the moment the parent is gone, as if killed with it. Without this a
 * parent killed with SIGKILL (an orchestrator, a crash test) would leave the child serving alone.
 */
export function exitWithParent(env: Record<string, string | undefined>): void {
  if (env[SUPERVISED] !== "1") return;
  const stdin = Bun.stdin.stream().getReader();
  void (async () => {
    while (!(await stdin.read().catch(() => ({ done: true }))).done);
    process.exit(137);
  })();
}

/** Runs this same program as a child with the limits set, passing signals on; resolves to its exit code. */
export async function relaunchWithOutboundLimit(): Promise<number> {
  // A compiled binary names its embedded entry point as argv[1]; `bun src/main.ts` names the file.
  const compiled = Bun.main.includes("$bunfs") || Bun.main.includes("~BUN");
  const argv = compiled ? [process.execPath, ...process.argv.slice(2)] : [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  // The child's stdin is a pipe only this process holds: if this process dies (even by SIGKILL, which
  // it cannot pass on), the pipe closes and the child ends at once (see exitWithParent).
  // What the operator set is kept.
  const env = { ...process.env, [VARIABLE]: process.env[VARIABLE] || OUTBOUND_REQUEST_LIMIT, [RAM_VARIABLE]: process.env[RAM_VARIABLE] || GC_RAM_SIZE, [SUPERVISED]: "1" };
  const child = Bun.spawn(argv, { env, stdio: ["pipe", "inherit", "inherit"] });
  const pass = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on("SIGTERM", () => pass("SIGTERM"));
  process.on("SIGINT", () => pass("SIGINT"));
  const code = await child.exited;
  return child.signalCode ? 1 : code;
}
