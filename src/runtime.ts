import type { Server } from "bun";
import type { Config } from "./config.ts";
import { createApp, type AppDeps } from "./app.ts";
import { openDatabase } from "./db/client.ts";
import { loadKeyring, type KeySource } from "./crypto/key-file.ts";
import { findUnknownKeyVersions } from "./crypto/rotate.ts";
import { createLogger, type Logger } from "./log.ts";

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
export async function prepareDeps(config: Config, log: Logger = createLogger(config.logLevel)): Promise<{ deps: AppDeps; keySource: KeySource }> {
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

export async function startGateway(config: Config, log?: Logger): Promise<Gateway> {
  const { deps, keySource } = await prepareDeps(config, log);
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
        await deps.database.close();
      })();
      return stopping;
    },
  };
}
