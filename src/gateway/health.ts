import type { Database } from "../db/client.ts";
import type { UpstreamFailure } from "../connections/upstream-client.ts";
import { setConnectionStatus } from "../connections/status.ts";
import type { ConnectionMeta, ToolIndex } from "./tool-index.ts";

/** After this many failures in a row a connection is paused and calls to it fail fast. */
export const PAUSE_AFTER_FAILURES = 5;
const FIRST_PAUSE_MS = 30_000;
const MAX_PAUSE_MS = 15 * 60_000;

type HealthDeps = { database: Database; toolIndex: ToolIndex };

/** Why a call cannot be tried now, in words, or null when it can. */
export function unavailableReason(connection: ConnectionMeta, now = Date.now()): string | null {
  const why = connection.statusDetail ? ` (${connection.statusDetail})` : "";
  if (connection.status === "needs_reauth") {
    return `${connection.name} needs re-authorization in the gateway dashboard${why}. Re-authorize it there, then call again.`;
  }
  if (connection.status === "paused" && connection.pausedUntil !== null && connection.pausedUntil > now) {
    return `${connection.name} is paused after repeated failures${why}. The gateway retries it at ${new Date(connection.pausedUntil).toISOString()}; an admin can retry now in the dashboard.`;
  }
  return null;
}

export function pauseDurationMs(consecutiveFailures: number): number {
  const over = Math.max(0, consecutiveFailures - PAUSE_AFTER_FAILURES);
  return Math.min(FIRST_PAUSE_MS * 2 ** over, MAX_PAUSE_MS);
}

export async function recordUpstreamSuccess(deps: HealthDeps, connection: ConnectionMeta): Promise<void> {
  if (connection.status === "connected" && connection.consecutiveFailures === 0) return;
  await setConnectionStatus(deps, connection, "connected", null, { consecutiveFailures: 0, pausedUntil: null });
}

export async function recordUpstreamFailure(deps: HealthDeps, connection: ConnectionMeta, failure: UpstreamFailure, reason: string, now = Date.now()): Promise<void> {
  if (failure.kind === "auth") {
    await setConnectionStatus(deps, connection, "needs_reauth", reason);
    return;
  }
  // A tool's own protocol error says nothing about the server's health.
  if (failure.kind === "protocol") return;
  const failures = connection.consecutiveFailures + 1;
  if (failures >= PAUSE_AFTER_FAILURES) {
    await setConnectionStatus(deps, connection, "paused", reason, { consecutiveFailures: failures, pausedUntil: now + pauseDurationMs(failures) }, now);
  } else {
    await setConnectionStatus(deps, connection, "error", reason, { consecutiveFailures: failures }, now);
  }
}
