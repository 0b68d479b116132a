import { listenForAuthChanges } from "./accounts/principal-cache.ts";
import type { Server } from "bun";
import type { Config } from "./config.ts";
import { createApp } from "./app.ts";
import type { AppDeps, CoreDeps, ServiceDeps } from "./deps.ts";
import { rememberPeer } from "./web/rate-limit.ts";
import { startSweeper } from "./db/sweep.ts";
import { openDatabase, type Database } from "./db/client.ts";
import { MigrationFailed } from "./db/migrate-lock.ts";
import { existsSync } from "node:fs";
import { keyFilePath, loadKeyring, type KeySource } from "./crypto/key-file.ts";
import { countSealedSecrets, findUnknownKeyVersions } from "./crypto/rotate.ts";
import { createLogger, type Logger } from "./log.ts";
import { ToolIndex } from "./gateway/tool-index.ts";
import { ItemIndex } from "./gateway/item-index.ts";
import { ResourceWatch } from "./gateway/resource-watch.ts";
import { wrapResourceUri } from "./gateway/resource-uris.ts";
import { TaskRoutes } from "./gateway/task-routes.ts";
import { UpstreamPool } from "./upstream/pool.ts";
import { AccessLogRecorder } from "./accesslog/recorder.ts";
import { createMcpEndpoint } from "./gateway/mcp-endpoint.ts";
import { OAuthManager } from "./upstream/oauth/manager.ts";
import { IdJagManager } from "./upstream/oauth/id-jag.ts";
import { clientMetadataUrl } from "./upstream/oauth/client-identity.ts";
import { startProber, type Prober } from "./upstream/prober.ts";
import { resyncConnection } from "./connections/resync.ts";
import { systemClock, type Clock } from "./clock.ts";
import { withReadableUrl } from "./web/host-check.ts";
import { answerServerOptions, internalError } from "./web/bare-answers.ts";
import { NATIVE_TOOLS } from "./gateway/native-tools.ts";
import { startObservability } from "./observe/start.ts";
import { observeDatabase } from "./observe/observed-database.ts";
import { observeMcp, onAccessLogWrite, onCallRecorded, outboundObserver, type Observability } from "./observe/observability.ts";
import { registerGauges } from "./observe/metrics-gauges.ts";
import { withinMs } from "./db/deadline.ts";
import { NATIVE_PREFIX, SEPARATOR } from "./connections/names.ts";
import { startAuditRetention } from "./audit/retention.ts";

export type Gateway = {
  deps: AppDeps;
  server: Server<unknown>;
  /** The address actually bound (port 0 picks one). */
  url: string;
  keySource: KeySource;
  /** Background checks of connections in Error or Paused. */
  prober: Prober;
  /**
   * Graceful: stops accepting, lets calls in flight finish for `SHUTDOWN_GRACE_MS`, cancels the
   * rest (the cancel reaches the upstream), flushes the access log, closes the database.
   */
  stop(): Promise<void>;
};

export class StartupError extends Error {}

/** Opens the database, checks the keys, and prepares the dependencies every command needs. */
export async function prepareDeps(config: Config, log: Logger = createLogger(config.logLevel)): Promise<{ deps: CoreDeps; keySource: KeySource }> {
  let database: Database;
  try {
    database = await openDatabase(config.database);
  } catch (error) {
    throw new StartupError(databaseFailure(config, error));
  }
  // A missing key file must not be silently replaced by a new one while sealed rows exist.
  if (!config.encryptionKey && !existsSync(keyFilePath(config.dataDir)) && (await countSealedSecrets(database)) > 0) {
    await database.close();
    throw new StartupError(
      `The database holds encrypted credentials but ${keyFilePath(config.dataDir)} is missing. Restore it from your backup (or set GATEWAY_ENCRYPTION_KEY to the key used before); refusing to start rather than lose them.`,
    );
  }
  let loaded: Awaited<ReturnType<typeof loadKeyring>>;
  try {
    loaded = await loadKeyring(config);
  } catch (error) {
    await database.close();
    throw error;
  }
  const { keyring, source } = loaded;
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

/** What failed when the database would not open, in words that point at the right fix. */
function databaseFailure(config: Config, error: unknown): string {
  const why = error instanceof Error ? error.message : String(error);
  if (config.database.kind === "sqlite") {
    return `Cannot open the SQLite database at ${config.database.path}: ${why}. Make DATA_DIR writable by this user, or set DATABASE_URL.`;
  }
  const at = redactUrlPassword(config.database.url);
  // Reached, but its schema could not be brought up to date: DATABASE_URL is not the problem.
  if (error instanceof MigrationFailed) return `The PostgreSQL database at ${at} was reached, but its migrations failed: ${why}`;
  return `Cannot open the PostgreSQL database at ${at}: ${why}. Check DATABASE_URL and that PostgreSQL is running.`;
}

function redactUrlPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

/**
 * The long-lived parts of a serving gateway, wired to each other; the MCP endpoint last, on top of
 * them. `observe`: metrics and traces hear calls, upstream requests and database writes through it.
 */
export function assembleDeps(core: CoreDeps, clock: Clock, observe: Observability): AppDeps {
  const toolIndex = new ToolIndex(core.database, { waitMs: core.config.databaseWaitMs });
  const itemIndex = new ItemIndex(core.database, toolIndex, { waitMs: core.config.databaseWaitMs });
  const resourceWatch = new ResourceWatch();
  const oauth = new OAuthManager({
    database: core.database,
    keyring: core.keyring,
    allow: core.config.upstreamAllow,
    log: core.log,
    clientMetadataUrl: clientMetadataUrl(core.config),
    now: clock,
  });
  // ID-JAG talks to the upstream's authorization server through the same SSRF-guarded fetch.
  const idJag = new IdJagManager({ database: core.database, keyring: core.keyring, config: core.config, log: core.log, fetch: oauth.fetch, now: clock });
  const pool = new UpstreamPool({
    database: core.database,
    keyring: core.keyring,
    allow: core.config.upstreamAllow,
    log: core.log,
    authProviderFor: (connection, userId) => (connection.authKind === "id-jag" ? idJag.authProviderFor(connection, userId) : oauth.authProviderFor(connection, userId)),
    callTimeoutMs: core.config.callTimeoutMs,
    hold: { waitMs: core.config.inputWaitMs },
    queue: { inFlight: core.config.maxCallsPerConnection, queued: core.config.maxQueuedCallsPerConnection, waitMs: core.config.maxQueueWaitMs },
    openRequests: { perConnection: core.config.maxUpstreamRequestsPerConnection, total: core.config.maxUpstreamRequests },
    healthWindowMs: core.config.healthWindowMs,
    // Debounced per connection by the pool: a storm of list_changed costs one sync per window. Only
    // called once the pool serves calls, by which time `services` exists.
    onResourceUpdated: (connection, userId, uri) => resourceWatch.updated(connection.id, userId, uri, wrapResourceUri),
    onToolsChanged: (connection) => resyncConnection(services, connection.workspaceId, connection.id, { why: "re-synced after the upstream's tools changed" }),
    observeOutbound: (connection) => outboundObserver(observe, connection.name),
  });
  const accessLog = new AccessLogRecorder(core.database, core.log, {
    dataDir: core.config.dataDir,
    memoryRows: core.config.accessLogMemoryRows,
    waitMs: core.config.databaseWaitMs,
    onRecord: onCallRecorded(observe),
    onWrite: onAccessLogWrite(observe),
  });
  const services: ServiceDeps = { ...core, toolIndex, itemIndex, resourceWatch, pool, accessLog, oauth, clock, observe, tasks: new TaskRoutes(clock) };
  const mcp = observeMcp(createMcpEndpoint(services), observe);
  toolIndex.subscribe((workspaceId) => mcp.notifyToolsChanged(workspaceId));
  return { ...services, mcp };
}

/** `clock` is for tests that move time forward; a real gateway runs on the system clock. */
export async function startGateway(config: Config, log?: Logger, clock: Clock = systemClock): Promise<Gateway> {
  const prepared = await prepareDeps(config, log);
  const keySource = prepared.keySource;
  const nativeTools = NATIVE_TOOLS.map((tool) => tool.name.slice(NATIVE_PREFIX.length + SEPARATOR.length));
  const observe = await startObservability(prepared.deps, { clock, nativeTools });
  const core: CoreDeps = { ...prepared.deps, database: observeDatabase(prepared.deps.database, observe) };
  let draining = false;
  const requests = countRequests();
  // Bound first (port 0 picks one, and BASE_URL may follow it), answering 503 until the app is
  // built on top of the bound address; then the real handler takes over.
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // SSE streams send keep-alives more often than this.
    idleTimeout: 60,
    maxRequestBodySize: config.maxBodyBytes + 1024,
    // Bun's development error page shows source lines and the working folder to whoever asks.
    development: false,
    error: (error) => internalError(core.log, error),
    fetch: () => startingUp(),
  });
  const url = `http://${server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname}:${server.port}`;
  const served: Config = !config.baseUrlExplicit && config.port === 0 ? { ...config, baseUrl: url } : config;
  const deps = assembleDeps({ ...core, config: served }, clock, observe);
  deps.accessLog.start();
  if (observe.metrics) {
    const waitMs = served.databaseWaitMs || 5000;
    registerGauges(observe.metrics, {
      calls: deps.pool.calls,
      openRequests: deps.pool.openRequests,
      pool: deps.pool,
      held: () => deps.mcp.held(),
      accessLog: deps.accessLog,
      connections: observe.connections,
      pingDatabase: () => withinMs(deps.database.ping(), waitMs).catch(() => false),
    });
  }
  observe.connections.start();
  const app = createApp(deps);
  server.reload({
    development: false,
    error: (error) => internalError(deps.log, error),
    fetch: async (received, srv) => {
      if (draining) return shuttingDown();
      const request = withReadableUrl(received, served.baseUrl);
      const probe = request.method === "OPTIONS" ? answerServerOptions(request, new URL(request.url).pathname) : null;
      if (probe !== null) return probe;
      rememberPeer(request, srv.requestIP(received)?.address);
      requests.begin();
      try {
        return await app.fetch(request, srv);
      } catch (error) {
        return internalError(deps.log, error);
      } finally {
        requests.end();
      }
    },
  });
  const prober = startProber(deps, { intervalMs: config.probeIntervalMs, now: deps.clock });
  const stopHearingToolChanges = await deps.toolIndex.listenToReplicas();
  const stopHearingAuthChanges = await listenForAuthChanges(deps.database);
  const stopHearingReplicas = async (): Promise<void> => {
    await Promise.all([stopHearingToolChanges(), stopHearingAuthChanges()]);
  };
  const stopSweeping = startSweeper(deps.database, deps.log);
  const stopAuditRetention = startAuditRetention(deps, config.auditRetentionDays);
  let stopping: Promise<void> | null = null;
  return {
    deps,
    server,
    url,
    keySource,
    prober,
    stop() {
      stopping ??= (async () => {
        const log = deps.log;
        // No new connections; requests on open keep-alive connections get a 503 from here on.
        draining = true;
        const closed = server.stop(false);
        prober.stop();
        observe.connections.stop();
        await stopHearingReplicas().catch(() => undefined);
        stopSweeping();
        // A call waiting for its client's answer cannot get it now (the answer would be a new request).
        deps.pool.held.cancelAll("the gateway is shutting down");
        stopAuditRetention();
        const calls = await deps.pool.calls.drain(config.shutdownGraceMs);
        log.info("calls in flight at shutdown", calls);
        // A call's answer becomes an HTTP response (or an event on a 2025 session's stream) a few
        // turns after the call returns; closing the MCP handler before that would lose it.
        if (calls.finished + calls.cancelled > 0) await Bun.sleep(100);
        await requests.idle(2000);
        await deps.mcp.close();
        // Answers of the last calls are on their way out; then cut whatever is still open (idle keep-alives, streams).
        await Promise.race([closed, Bun.sleep(500)]);
        await server.stop(true);
        await deps.pool.closeAll();
        await deps.accessLog.close();
        await observe.tracing?.shutdown();
        await deps.database.close();
      })();
      return stopping;
    },
  };
}

/** HTTP requests whose response is not built yet (a streamed body may still be flowing). */
function countRequests(): { begin(): void; end(): void; idle(timeoutMs: number): Promise<void> } {
  let active = 0;
  return {
    begin: () => void active++,
    end: () => void active--,
    async idle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (active > 0 && Date.now() < deadline) await Bun.sleep(10);
    },
  };
}

function startingUp(): Response {
  return Response.json({ error: "starting", message: "The gateway is starting; try again in a moment." }, { status: 503, headers: { "retry-after": "1" } });
}

function shuttingDown(): Response {
  return Response.json({ error: "shutting_down", message: "The gateway is shutting down; try again in a moment." }, { status: 503, headers: { connection: "close", "retry-after": "1" } });
}
