#!/usr/bin/env bun
import { parseArgs } from "node:util";
import { loadConfig, type Config } from "./config.ts";
import { batchedStdout, createLogger } from "./log.ts";
import { prepareDeps, startGateway, StartupError } from "./runtime.ts";
import { setupOwner, findMemberByEmail } from "./accounts/accounts.ts";
import { createApiKey } from "./accounts/api-keys.ts";
import { createPasswordReset, resetLink } from "./accounts/passwords.ts";
import { rotateKey } from "./crypto/rotate-command.ts";
import { KeyFileError } from "./crypto/key-file.ts";
import { auditCommand, stdoutWriter } from "./audit/command.ts";
import { exitWithParent, needsOutboundLimit, relaunchWithOutboundLimit } from "./outbound-limit.ts";

const HELP = `mcp-gateway — one URL, one key, every MCP tool.

Usage: mcp-gateway [command] [options]

Commands:
  serve                                    Start the gateway (the default).
  setup --email E --password-stdin         Create the owner account and first workspace (only once).
        [--workspace NAME]
  keys create --email E --name N           Print a new API key for that user on stdout, nothing else.
  users reset-password --email E           Print a one-time link (30 min) that sets a new password
                                           for that member, e.g. a locked-out owner.
  rotate-key                               Re-encrypt every stored credential with a new key.
  audit verify                             Re-compute the audit trail's hash chain; name the first bad entry.
  audit export [--from T] [--to T]         Stream the audit trail as JSON lines on stdout.
  audit prune [--days N]                   Remove entries older than N days (AUDIT_RETENTION_DAYS).
  help, --help                             Show this help.

Configuration comes from the environment; see README.md (PORT, HOST, BASE_URL, DATA_DIR,
DATABASE_URL, GATEWAY_ENCRYPTION_KEY, LOG_LEVEL, UPSTREAM_ALLOW, …).
`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith("-") ? argv[0] : "serve";
  if (command === "help" || argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === "serve" && needsOutboundLimit(process.env)) return relaunchWithOutboundLimit();
  if (command === "serve") exitWithParent(process.env);
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(`Configuration problems, fix these and start again:\n${loaded.errors.map((e) => `  - ${e}`).join("\n")}\n`);
    return 2;
  }
  const config = loaded.config;
  try {
    switch (command) {
      case "serve":
        return await serve(config);
      case "setup":
        return await setup(config, argv.slice(1));
      case "keys":
        return await keys(config, argv.slice(1));
      case "users":
        return await users(config, argv.slice(1));
      case "rotate-key":
        return await rotateKey(config, { out: (line) => process.stdout.write(line + "\n"), err: (line) => process.stderr.write(line + "\n") });
      case "audit":
        return await audit(config, argv.slice(1));
      default:
        process.stderr.write(`Unknown command "${command}".\n\n${HELP}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof StartupError || error instanceof KeyFileError) {
      process.stderr.write(error.message + "\n");
      return 1;
    }
    throw error;
  }
}

async function serve(config: Config): Promise<number> {
  const log = createLogger(config.logLevel);
  const gateway = await startGateway(config, log);
  if (gateway.keySource.kind === "file" && gateway.keySource.created) {
    log.warn(`created encryption key file ${gateway.keySource.path}; back it up: without it stored credentials cannot be read`);
  }
  // Handlers go in before the address is announced: whoever reads it may stop us at once.
  const stopped = new Promise<number>((resolve) => {
    let signals = 0;
    const shutdown = (signal: string): void => {
      // A second signal means "now": skip the grace period.
      if (++signals > 1) {
        log.warn("second signal: exiting without waiting", { signal });
        process.exit(1);
      }
      log.info("shutting down", { signal, graceMs: config.shutdownGraceMs });
      // Should a step hang, leave anyway some time after the grace period.
      setTimeout(() => {
        log.error("shutdown did not finish in time; exiting");
        process.exit(1);
      }, config.shutdownGraceMs + 15_000).unref();
      gateway.stop().then(
        () => resolve(0),
        (error: unknown) => {
          log.error("shutdown failed", { error: error instanceof Error ? error.message : String(error) });
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", () => shutdown("SIGTERM"));
    process.on("SIGINT", () => shutdown("SIGINT"));
  });
  log.info("gateway listening", { database: config.database.kind, listen: gateway.url, outboundRequestLimit: Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) || 256, gcRamSize: Number(process.env.BUN_JSC_forceRAMSize) || null });
  const baseUrl = gateway.deps.config.baseUrl;
  // After the log lines before it, which are written in batches (log.ts).
  batchedStdout(`\n  Dashboard: ${baseUrl}/\n  MCP:       ${baseUrl}/api/v1/mcp\n\n`);
  return stopped;
}

async function setup(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: "string" }, "password-stdin": { type: "boolean" }, workspace: { type: "string" } } });
  if (!values.email || !values["password-stdin"]) {
    process.stderr.write("Usage: mcp-gateway setup --email E --password-stdin [--workspace NAME]\n");
    return 2;
  }
  const password = (await new Response(Bun.stdin.stream()).text()).replace(/\r?\n$/, "");
  const { deps } = await prepareDeps(config, createLogger("warn", (l) => process.stderr.write(l)));
  try {
    const result = await setupOwner(deps.database, { email: values.email, password, workspaceName: values.workspace });
    if (!result.ok) {
      process.stderr.write(Object.values(result.errors).join("\n") + "\n");
      return 1;
    }
    process.stderr.write(`Created owner ${values.email} and workspace.\n`);
    return 0;
  } finally {
    await deps.database.close();
  }
}

async function keys(config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { email: { type: "string" }, name: { type: "string" } } });
  if (positionals[0] !== "create" || !values.email || !values.name) {
    process.stderr.write("Usage: mcp-gateway keys create --email E --name N\n");
    return 2;
  }
  const { deps } = await prepareDeps(config, createLogger("warn", (l) => process.stderr.write(l)));
  try {
    const member = await findMemberByEmail(deps.database, values.email);
    if (!member) {
      process.stderr.write(`No active user with email ${values.email}. Run setup first, or check the address.\n`);
      return 1;
    }
    const result = await createApiKey(deps.database, { workspaceId: member.workspaceId, userId: member.userId, name: values.name, maxActive: config.maxApiKeysPerUser });
    if (!result.ok) {
      process.stderr.write(Object.values(result.errors).join("\n") + "\n");
      return 1;
    }
    process.stdout.write(result.key + "\n");
    return 0;
  } finally {
    await deps.database.close();
  }
}

async function audit(config: Config, args: string[]): Promise<number> {
  const { deps } = await prepareDeps(config, createLogger("warn", (l) => process.stderr.write(l)));
  try {
    return await auditCommand(deps, args, { out: stdoutWriter(), err: (line) => process.stderr.write(line + "\n") });
  } finally {
    await deps.database.close();
  }
}

/**
 * A link, not a password on stdin: the new password is typed only into the page, never through a
 * shell or a pipe, and what the terminal shows is useless once used or after 30 minutes
 * (accounts/passwords.ts). The link goes to stdout alone, so it can be piped; the rest to stderr.
 */
async function users(config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { email: { type: "string" } } });
  if (positionals[0] !== "reset-password" || !values.email) {
    process.stderr.write("Usage: mcp-gateway users reset-password --email E\n");
    return 2;
  }
  const { deps } = await prepareDeps(config, createLogger("warn", (l) => process.stderr.write(l)));
  try {
    const result = await createPasswordReset(deps.database, values.email);
    if (!result.ok) {
      process.stderr.write(result.error + "\n");
      return 1;
    }
    process.stderr.write(`Open this link within 30 minutes to set a new password for ${values.email} (it works once; every session of the account ends):\n`);
    process.stdout.write(resetLink(config.baseUrl, result.token) + "\n");
    return 0;
  } finally {
    await deps.database.close();
  }
}

process.exit(await main(process.argv.slice(2)));
