import { join, resolve } from "node:path";
import { parseUpstreamAllow, type UpstreamAllowList } from "./net/url-policy.ts";
import { parseAllowedHost, type AllowedHost } from "./web/host-check.ts";
import { readObserveConfig, type ObserveConfig } from "./observe/observe-config.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

export type DatabaseTarget =
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; url: string };

export type Config = {
  port: number;
  host: string;
  baseUrl: string;
  /** False when BASE_URL was derived from HOST and PORT (then a port of 0 is fixed up after listen). */
  baseUrlExplicit: boolean;
  dataDir: string;
  database: DatabaseTarget;
  /** Base64 of 32 bytes; when absent a key file in dataDir is used. */
  encryptionKey: string | null;
  /** Older keys, still accepted for decryption while `rotate-key` rewraps rows. */
  previousEncryptionKeys: string[];
  logLevel: LogLevel;
  /** Hosts and CIDRs an upstream may be on although private or loopback (UPSTREAM_ALLOW). */
  upstreamAllow: UpstreamAllowList;
  /** Default deadline for one upstream tool call; each progress notification the upstream sends moves it. */
  callTimeoutMs: number;
  /** How long a call whose upstream asked the client something waits for the client's answer. */
  inputWaitMs: number;
  /** The longest one upstream call may last, however much progress it reports. */
  callMaxTotalMs: number;
  /** Largest MCP request body the endpoint reads. */
  maxBodyBytes: number;
  /** Extra browser origins allowed to call the MCP endpoint. */
  allowedOrigins: string[];
  /** Extra names (besides BASE_URL's host) requests may be addressed to; a port of null matches any. */
  allowedHosts: AllowedHost[];
  /** How often an SSO member is re-checked at the identity provider with their refresh token. */
  ssoRevalidateSeconds: number;
  /**
   * When a connection is paused (see upstream/health-rule.ts): `pauseAfterFailures` failures in a
   * row spanning at least `pauseFailureSpanMs`, or at least `pauseFailurePercent` % of at least
   * `healthMinCalls` calls failed within the last `healthWindowMs`.
   */
  pauseAfterFailures: number;
  pauseFailureSpanMs: number;
  pauseFailurePercent: number;
  healthMinCalls: number;
  healthWindowMs: number;
  /** The first pause; each failed probe doubles it, up to pauseMaxMs. */
  pauseFirstMs: number;
  pauseMaxMs: number;
  /** How often connections in Error or Paused are checked in the background. */
  probeIntervalMs: number;
  /** Calls one connection may have waiting on its upstream at once; more wait in its queue. */
  maxCallsPerConnection: number;
  /** Calls that may wait in one connection's queue, and for how long; past either they are refused. */
  maxQueuedCallsPerConnection: number;
  maxQueueWaitMs: number;
  /** HTTP requests open to one connection's upstream, and to all upstreams (sockets, in effect). */
  maxUpstreamRequestsPerConnection: number;
  maxUpstreamRequests: number;
  /** How long a SIGTERM lets calls in flight finish before cancelling them. */
  shutdownGraceMs: number;
  /** How long the MCP endpoint reuses a resolved key or token (0: never); changes to access clear it at once. */
  authCacheMs: number;
  /** While the database cannot answer, a key or token it confirmed within this long still stands (0: never). */
  authStaleIfErrorMs: number;
  /** How long an MCP request waits for the database before answering from memory, or with 503. */
  databaseWaitMs: number;
  /** Access-log rows held in memory while the database cannot take them; more wait on disk in dataDir. */
  accessLogMemoryRows: number;
  /** Audit entries older than this many days are removed behind a signed anchor (0: kept for ever). */
  auditRetentionDays: number;
  /** 2025-era sessions one replica holds: per key and per user (past these the idlest is closed), and in all (past it: 429). */
  sessionLimits: HoldLimits;
  /** A 2025-era session with no request and no open stream for this long is closed (DELETE never came). */
  sessionIdleMs: number;
  /** FAST_RELAY=off sends every MCP request through the SDK's server, plain 2026-07-28 tool calls included (gateway/fast-call.ts), and every upstream tools/call through the SDK's client (upstream/direct-call.ts). */
  fastRelay: boolean;
  /** Open notification streams (2025 GET streams, 2026 subscriptions/listen) one replica holds; past a cap: 429. */
  streamLimits: HoldLimits;
  /** Active (not revoked, not expired) API keys one member may hold in a workspace. */
  maxApiKeysPerUser: number;
  /** Metrics, traces and the alert on connections that stay down (observe/observe-config.ts). */
  observe: ObserveConfig;
};

export type HoldLimits = { perKey: number; perUser: number; total: number };

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

const LOG_LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

/** The only reader of the environment. Lists every problem at once. */
export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  const errors: string[] = [];

  const port = readInteger(env, "PORT", 8787, 0, 65535, errors);
  const host = env.HOST?.trim() || "127.0.0.1";
  const dataDir = resolve(env.DATA_DIR?.trim() || "data");

  let baseUrl = env.BASE_URL?.trim() || `http://${host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  try {
    const parsed = new URL(baseUrl);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") errors.push(`BASE_URL must be an http(s) URL, got "${baseUrl}"`);
    if (parsed.search || parsed.hash) errors.push("BASE_URL must not have a query or fragment");
    baseUrl = parsed.origin + parsed.pathname.replace(/\/+$/, "");
  } catch {
    errors.push(`BASE_URL is not a URL: "${baseUrl}"`);
  }

  const database = readDatabase(env.DATABASE_URL?.trim(), dataDir, errors);

  const encryptionKey = env.GATEWAY_ENCRYPTION_KEY?.trim() || null;
  if (encryptionKey !== null) {
    const bytes = decodeBase64(encryptionKey);
    if (bytes === null || bytes.length !== 32) {
      errors.push("GATEWAY_ENCRYPTION_KEY must be 32 bytes in base64 (make one with: openssl rand -base64 32)");
    }
  }

  const previousEncryptionKeys = (env.GATEWAY_ENCRYPTION_KEY_PREVIOUS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const [i, key] of previousEncryptionKeys.entries()) {
    const bytes = decodeBase64(key);
    if (bytes === null || bytes.length !== 32) errors.push(`GATEWAY_ENCRYPTION_KEY_PREVIOUS entry ${i + 1} must be 32 bytes in base64`);
  }

  const logLevelRaw = (env.LOG_LEVEL?.trim() || "info").toLowerCase();
  if (!LOG_LEVELS.includes(logLevelRaw as LogLevel)) {
    errors.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${env.LOG_LEVEL}"`);
  }

  const allow = parseUpstreamAllow(env.UPSTREAM_ALLOW ?? "");
  if (!allow.ok) errors.push(...allow.errors.map((e) => `UPSTREAM_ALLOW: ${e}`));

  const callTimeoutMs = readInteger(env, "CALL_TIMEOUT_MS", 60_000, 100, 3_600_000, errors);
  const inputWaitMs = readInteger(env, "INPUT_WAIT_MS", 120_000, 100, 3_600_000, errors);
  const callMaxTotalMs = readInteger(env, "CALL_MAX_TOTAL_MS", 10 * 60_000, 100, 86_400_000, errors);
  if (callMaxTotalMs < callTimeoutMs) errors.push(`CALL_MAX_TOTAL_MS (${callMaxTotalMs}) must not be below CALL_TIMEOUT_MS (${callTimeoutMs})`);
  const maxBodyBytes = readInteger(env, "MAX_BODY_BYTES", 4 * 1024 * 1024, 1024, 64 * 1024 * 1024, errors);
  const ssoRevalidateSeconds = readInteger(env, "SSO_REVALIDATE_SECONDS", 900, 1, 86_400, errors);
  const pauseAfterFailures = readInteger(env, "PAUSE_AFTER_FAILURES", 5, 1, 1000, errors);
  const pauseFirstMs = readInteger(env, "PAUSE_FIRST_MS", 30_000, 100, 86_400_000, errors);
  const pauseMaxMs = readInteger(env, "PAUSE_MAX_MS", 15 * 60_000, 100, 86_400_000, errors);
  if (pauseMaxMs < pauseFirstMs) errors.push(`PAUSE_MAX_MS (${pauseMaxMs}) must not be below PAUSE_FIRST_MS (${pauseFirstMs})`);
  const pauseFailureSpanMs = readInteger(env, "PAUSE_FAILURE_SPAN_MS", 5000, 0, 3_600_000, errors);
  const pauseFailurePercent = readInteger(env, "PAUSE_FAILURE_PERCENT", 80, 1, 100, errors);
  const healthMinCalls = readInteger(env, "HEALTH_MIN_CALLS", 10, 1, 100_000, errors);
  const healthWindowMs = readInteger(env, "HEALTH_WINDOW_MS", 30_000, 1000, 3_600_000, errors);
  const probeIntervalMs = readInteger(env, "PROBE_INTERVAL_MS", 5000, 50, 3_600_000, errors);
  const maxCallsPerConnection = readInteger(env, "MAX_CALLS_PER_CONNECTION", 32, 1, 10_000, errors);
  const maxQueuedCallsPerConnection = readInteger(env, "MAX_QUEUED_CALLS_PER_CONNECTION", 2048, 0, 100_000, errors); // sized by memory: see DEFAULT_QUEUE_LIMITS in upstream/in-flight.ts
  const maxQueueWaitMs = readInteger(env, "MAX_QUEUE_WAIT_MS", 10_000, 1, 600_000, errors);
  // Room above the calls for the listen stream, cancellations and a background check.
  const maxUpstreamRequestsPerConnection = readInteger(env, "MAX_UPSTREAM_REQUESTS_PER_CONNECTION", maxCallsPerConnection + 32, 2, 60_000, errors);
  // Below the process's own outbound limit (OUTBOUND_REQUEST_LIMIT in outbound-limit.ts).
  const maxUpstreamRequests = readInteger(env, "MAX_UPSTREAM_REQUESTS", 2048, 2, 60_000, errors);
  const shutdownGraceMs = readInteger(env, "SHUTDOWN_GRACE_MS", 10_000, 0, 600_000, errors);
  const authCacheMs = readInteger(env, "AUTH_CACHE_MS", 1000, 0, 60_000, errors);
  const authStaleIfErrorMs = readInteger(env, "AUTH_STALE_IF_ERROR_MS", 10 * 60_000, 0, 86_400_000, errors);
  const databaseWaitMs = readInteger(env, "DATABASE_WAIT_MS", 5000, 0, 120_000, errors);
  const accessLogMemoryRows = readInteger(env, "ACCESS_LOG_MEMORY_ROWS", 10_000, 1, 1_000_000, errors);
  const auditRetentionDays = readInteger(env, "AUDIT_RETENTION_DAYS", 0, 0, 36_500, errors);
  const sessionLimits: HoldLimits = {
    perKey: readInteger(env, "MAX_SESSIONS_PER_KEY", 64, 1, 100_000, errors),
    perUser: readInteger(env, "MAX_SESSIONS_PER_USER", 128, 1, 100_000, errors),
    total: readInteger(env, "MAX_SESSIONS", 4000, 1, 1_000_000, errors),
  };
  const sessionIdleMs = readInteger(env, "SESSION_IDLE_MS", 5 * 60_000, 1000, 86_400_000, errors);
  const fastRelayRaw = (env.FAST_RELAY?.trim() || "on").toLowerCase();
  if (fastRelayRaw !== "on" && fastRelayRaw !== "off") errors.push(`FAST_RELAY must be "on" or "off", got "${env.FAST_RELAY}"`);
  const streamLimits: HoldLimits = {
    perKey: readInteger(env, "MAX_STREAMS_PER_KEY", 64, 1, 100_000, errors),
    perUser: readInteger(env, "MAX_STREAMS_PER_USER", 128, 1, 100_000, errors),
    total: readInteger(env, "MAX_STREAMS", 4000, 1, 1_000_000, errors),
  };
  const maxApiKeysPerUser = readInteger(env, "MAX_API_KEYS_PER_USER", 50, 1, 100_000, errors);
  const observe = readObserveConfig(env, (name, fallback, min, max) => readInteger(env, name, fallback, min, max, errors), errors);

  const allowedOrigins: string[] = [];
  for (const origin of (env.ALLOWED_ORIGINS ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    try {
      allowedOrigins.push(new URL(origin).origin);
    } catch {
      errors.push(`ALLOWED_ORIGINS has an entry that is not an origin: "${origin}"`);
    }
  }

  const allowedHosts: AllowedHost[] = [];
  for (const entry of (env.ALLOWED_HOSTS ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const parsed = parseAllowedHost(entry);
    if (parsed) allowedHosts.push(parsed);
    else errors.push(`ALLOWED_HOSTS has an entry that is not a host name or host:port: "${entry}"`);
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      port,
      host,
      baseUrl,
      baseUrlExplicit: Boolean(env.BASE_URL?.trim()),
      dataDir,
      database: database!,
      encryptionKey,
      previousEncryptionKeys,
      logLevel: logLevelRaw as LogLevel,
      upstreamAllow: allow.ok ? allow.allow : { hosts: new Set(), cidrs: [] },
      callTimeoutMs,
      inputWaitMs,
      callMaxTotalMs,
      maxBodyBytes,
      allowedOrigins,
      allowedHosts,
      ssoRevalidateSeconds,
      pauseAfterFailures,
      pauseFailureSpanMs,
      pauseFailurePercent,
      healthMinCalls,
      healthWindowMs,
      pauseFirstMs,
      pauseMaxMs,
      probeIntervalMs,
      maxCallsPerConnection,
      maxQueuedCallsPerConnection,
      maxQueueWaitMs,
      maxUpstreamRequestsPerConnection,
      maxUpstreamRequests,
      shutdownGraceMs,
      authCacheMs,
      authStaleIfErrorMs,
      databaseWaitMs,
      accessLogMemoryRows,
      auditRetentionDays,
      sessionLimits,
      sessionIdleMs,
      fastRelay: fastRelayRaw !== "off",
      streamLimits,
      maxApiKeysPerUser,
      observe,
    },
  };
}

function readInteger(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  errors: string[],
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    errors.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return value;
}

function readDatabase(raw: string | undefined, dataDir: string, errors: string[]): DatabaseTarget | null {
  if (!raw) return { kind: "sqlite", path: join(dataDir, "gateway.db") };
  if (raw.startsWith("postgres://") || raw.startsWith("postgresql://")) {
    try {
      new URL(raw);
      return { kind: "postgres", url: raw };
    } catch {
      errors.push("DATABASE_URL looks like a postgres:// URL but does not parse");
      return null;
    }
  }
  if (raw.startsWith("sqlite:")) return { kind: "sqlite", path: resolve(raw.slice("sqlite:".length).replace(/^\/\//, "")) };
  if (raw.includes("://")) {
    errors.push("DATABASE_URL must be a SQLite file path (or sqlite:PATH) or a postgres:// URL");
    return null;
  }
  return { kind: "sqlite", path: resolve(raw) };
}

function decodeBase64(value: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
