/** The variable through which Bun takes its limit on outbound requests open at once. */
const VARIABLE = "BUN_CONFIG_MAX_HTTP_REQUESTS";
/** Above MAX_UPSTREAM_REQUESTS (2048 by default), with room for OAuth, SSO and metadata fetches. */
export const OUTBOUND_REQUEST_LIMIT = "4096";

/**
 * Bun allows 256 outbound requests at once, for all hosts together, and queues the rest: 256 calls
 * hung on one upstream would stall every other connection. It reads the limit once, at start-up
 * (checked on Bun 1.4.5: setting the variable from the running process changes nothing), so
 * `serve` starts itself again with the variable set, unless the operator set it.
 */
export function needsOutboundLimit(env: Record<string, string | undefined>): boolean {
  return !env[VARIABLE];
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

/** Runs this same program as a child with the limit set, passing signals on; resolves to its exit code. */
export async function relaunchWithOutboundLimit(): Promise<number> {
  // A compiled binary names its embedded entry point as argv[1]; `bun src/main.ts` names the file.
  const compiled = Bun.main.includes("$bunfs") || Bun.main.includes("~BUN");
  const argv = compiled ? [process.execPath, ...process.argv.slice(2)] : [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  // The child's stdin is a pipe only this process holds: if this process dies (even by SIGKILL, which
  // it cannot pass on), the pipe closes and the child ends at once (see exitWithParent).
  const child = Bun.spawn(argv, { env: { ...process.env, [VARIABLE]: OUTBOUND_REQUEST_LIMIT, [SUPERVISED]: "1" }, stdio: ["pipe", "inherit", "inherit"] });
  const pass = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on("SIGTERM", () => pass("SIGTERM"));
  process.on("SIGINT", () => pass("SIGINT"));
  const code = await child.exited;
  return child.signalCode ? 1 : code;
}
