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

/** Runs this same program as a child with the limit set, passing signals on; resolves to its exit code. */
export async function relaunchWithOutboundLimit(): Promise<number> {
  // A compiled binary names its embedded entry point as argv[1]; `bun src/main.ts` names the file.
  const compiled = Bun.main.includes("$bunfs") || Bun.main.includes("~BUN");
  const argv = compiled ? [process.execPath, ...process.argv.slice(2)] : [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = Bun.spawn(argv, { env: { ...process.env, [VARIABLE]: OUTBOUND_REQUEST_LIMIT }, stdio: ["inherit", "inherit", "inherit"] });
  const pass = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on("SIGTERM", () => pass("SIGTERM"));
  process.on("SIGINT", () => pass("SIGINT"));
  const code = await child.exited;
  return child.signalCode ? 1 : code;
}
