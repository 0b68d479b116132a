import type { Server } from "bun";
import type { Config } from "./config.ts";
import { createApp, type AppDeps } from "./app.ts";
import { openDatabase } from "./db/client.ts";
import { loadKeyring, type KeySource } from "./crypto/key-file.ts";
import { findUnknownKeyVersions } from "./crypto/rotate.ts";
import { createLogger, type Logger } from "./log.ts";
import { ToolIndex } from "./gateway/tool-index.ts";
import { UpstreamPool } from "./gateway/upstream-pool.ts";
import { AccessLogRecorder } from "./accesslog/recorder.ts";
import { createMcpEndpoint, type McpEndpoint } from "./gateway/mcp-endpoint.ts";

export type Gateway = {
  deps: AppDeps;
  server: Server<unknown>;
  /** The address actually bound (port 0 picks one). */
  url: string;
  keySource: KeySource;
  stop(): Promise<void>;
};

export class StartupError extends Error {}

/** Opens the database, checks the keys, and prepares the dependencies every command needs. */
export type CoreDeps = Pick<AppDeps, "config" | "database" | "keyring" | "log">;

export async function prepareDeps(config: Config, log: Logger = createLogger(config.logLevel)): Promise<{ deps: CoreDeps; keySource: KeySource }> {
  const { keyring, source } = await loadKeyring(config);
  const database = await openDatabase(config.database);
  const unknown = await findUnknownKeyVersions(database, keyring);
  if (unknown.length > 0) {
    await database.close();
    throw new StartupError(
      `Stored credentials were encrypted with a key this gateway does not have (key version ${unknown.join(", ")}). ` +
        "Set GATEWAY_ENCRYPTION_KEY to the key used before (or restore DATA_DIR/encryption.key); refusing to start rather than lose them.",
    );
  }
  return { deps: { config, database, keyring, log }, keySource: source };
}

/** The long-lived parts of a serving gateway, wired to each other. */
export function assembleDeps(core: CoreDeps): AppDeps {
  const toolIndex = new ToolIndex(core.database);
  const pool = new UpstreamPool({
    database: core.database,
    keyring: core.keyring,
    allow: core.config.upstreamAllow,
    log: core.log,
  });
  const accessLog = new AccessLogRecorder(core.database, core.log);
  const deps: AppDeps = { ...core, toolIndex, pool, accessLog, mcp: null as unknown as McpEndpoint };
  deps.mcp = createMcpEndpoint(deps);
  toolIndex.subscribe((workspaceId) => deps.mcp.notifyToolsChanged(workspaceId));
  return deps;
}

export async function startGateway(config: Config, log?: Logger): Promise<Gateway> {
  const { deps: core, keySource } = await prepareDeps(config, log);
  const deps = assembleDeps(core);
  deps.accessLog.start();
  let app: ReturnType<typeof createApp> | null = null;
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // SSE streams send keep-alives more often than this.
    idleTimeout: 60,
    maxRequestBodySize: config.maxBodyBytes + 1024,
    fetch: (request, srv) => app!.fetch(request, srv),
  });
  const url = `http://${server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname}:${server.port}`;
  if (!config.baseUrlExplicit && config.port === 0) config.baseUrl = url;
  app = createApp(deps);
  let stopping: Promise<void> | null = null;
  return {
    deps,
    server,
    url,
    keySource,
    stop() {
      stopping ??= (async () => {
        await server.stop(false);
        await deps.mcp.close();
        await deps.pool.closeAll();
        await deps.accessLog.close();
        await deps.database.close();
      })();
      return stopping;
    },
  };
}
