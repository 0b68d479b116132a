import { LOG_LEVEL_META_KEY, type LoggingLevel } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import { unavailableReason } from "../upstream/health.ts";
import type { CallDeps } from "./results.ts";

const SEVERITY: LoggingLevel[] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/** How long a client's logging/setLevel waits on the upstreams it is passed to. */
export const SET_LEVEL_TIMEOUT_MS = 5_000;

/**
 * Which of an upstream's log messages the caller of a call hears. A 2026-07-28 client names its
 * level on each request, and hears nothing without one (that revision's rule); a 2025 session
 * sets it with logging/setLevel, and until then hears what the servers send.
 */
export function callerLogLevel(envelope: Record<string, unknown> | undefined, sessionLevel: LoggingLevel | undefined): { level: LoggingLevel | undefined; hears(level: LoggingLevel): boolean } {
  const requested = envelope?.[LOG_LEVEL_META_KEY] as LoggingLevel | undefined;
  const level = requested ?? sessionLevel;
  const modern = envelope !== undefined;
  return {
    level,
    hears: (messageLevel) => (level === undefined ? !modern : SEVERITY.indexOf(messageLevel) >= SEVERITY.indexOf(level)),
  };
}

/**
 * The `_meta` that tells a 2026-07-28 upstream which messages to send during this call (it sends
 * none without it); a 2025 upstream ignores the key and goes by its session's level.
 */
export function logLevelMeta(level: LoggingLevel | undefined): Record<string, unknown> | undefined {
  return level === undefined ? undefined : { _meta: { [LOG_LEVEL_META_KEY]: level } };
}

/**
 * Passes a client's logging/setLevel to the 2025-era upstreams of the workspace's connections
 * that expose tools and offer logging. Their client is shared by every caller, so an upstream
 * keeps the level asked last; what each caller hears is then filtered to its own level (see
 * callerLogLevel). 2026-07-28 upstreams get the level with each call instead. An upstream that
 * fails or is slow does not fail the request.
 */
export async function forwardLogLevel(deps: CallDeps, principal: Principal, level: LoggingLevel): Promise<void> {
  const index = await deps.toolIndex.get(principal.workspaceId);
  const exposing = new Set<string>();
  for (const route of index.routes.values()) if (route.enabled) exposing.add(route.connectionId);
  const signal = AbortSignal.timeout(SET_LEVEL_TIMEOUT_MS);
  await Promise.allSettled(
    [...exposing].map(async (id) => {
      const connection = index.connections.get(id);
      if (!connection || unavailableReason(connection) !== null) return;
      await deps.pool.use(connection, { signal, userId: principal.userId }, async ({ client }) => {
        if (!client.getServerCapabilities()?.logging || client.getProtocolEra() === "modern") return;
        await client.setLoggingLevel(level, { signal, timeout: SET_LEVEL_TIMEOUT_MS });
      });
    }),
  );
}
