import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { UpstreamFailure } from "./client.ts";
import { transitionConnection, type HealthState, type Transition } from "../connections/status.ts";
import type { ToolIndex } from "../gateway/tool-index.ts";
import type { ConnectionMeta, ConnectionRow } from "../connections/types.ts";
import { shouldPause, type RecentCalls } from "./health-rule.ts";

/*
 * Status of a connection, and what a call does in each:
 *   connected     calls go through.
 *   error         the last attempt failed. Calls are still tried: the fault may be gone, each try
 *                 either heals the status or counts towards the pause, and the background prober
 *                 checks it too. Failing fast here would turn one dropped request into an outage.
 *   paused        the calls look like an outage, not a blip (see health-rule.ts), or background
 *                 checks failed `pauseAfterFailures` times in a row. Calls fail at once, without touching the
 *                 upstream; only a single background probe after `pausedUntil` (or a person's
 *                 "Retry now") decides whether it comes back. Each failed probe doubles the window.
 *   needs_reauth  the upstream refused the credential. Calls fail at once until a person
 *                 re-authorizes (or retries); retrying a refused credential cannot help.
 */

type HealthDeps = {
  database: Database;
  toolIndex: ToolIndex;
  config: Pick<Config, "pauseAfterFailures" | "pauseFirstMs" | "pauseMaxMs" | "pauseFailureSpanMs" | "pauseFailurePercent" | "healthMinCalls" | "healthWindowMs">;
};

/** Why a call cannot be tried now, in words a person can act on, or null when it can. */
export function unavailableReason(connection: ConnectionMeta, now = Date.now()): string | null {
  const why = connection.statusDetail ? ` (last error: ${connection.statusDetail})` : "";
  if (connection.status === "needs_reauth") {
    return `${connection.name} needs re-authorization in the gateway dashboard${why}. Re-authorize it there, then call again.`;
  }
  if (connection.status === "paused") {
    const retry =
      connection.pausedUntil !== null && connection.pausedUntil > now
        ? `The gateway checks it again at ${new Date(connection.pausedUntil).toISOString()}`
        : "The gateway is checking it now";
    return `${connection.name} is paused after repeated failures${why}. ${retry}; an admin can also Retry now in the dashboard. Its tools work again once a check succeeds.`;
  }
  return null;
}

/** The window before the next probe of a paused connection: doubles with every failed probe, capped. */
export function pauseDurationMs(config: Pick<HealthDeps["config"], "pauseAfterFailures" | "pauseFirstMs" | "pauseMaxMs">, consecutiveFailures: number): number {
  const failedProbes = Math.max(0, consecutiveFailures - config.pauseAfterFailures);
  return Math.min(config.pauseFirstMs * 2 ** Math.min(failedProbes, 30), config.pauseMaxMs);
}

/** A good answer: back to Connected. Free on the hot path when nothing was wrong. */
export async function recordUpstreamSuccess(
  deps: HealthDeps,
  connection: Pick<ConnectionRow, "id" | "workspaceId" | "status" | "consecutiveFailures">,
  options: { reason?: string; lastSyncedAt?: number; now?: number } = {},
): Promise<void> {
  if (connection.status === "connected" && connection.consecutiveFailures === 0 && options.lastSyncedAt === undefined) return;
  await transitionConnection(
    deps,
    connection,
    (current) => {
      if (current.status === "connected" && current.consecutiveFailures === 0 && options.lastSyncedAt === undefined) return null;
      return {
        status: "connected",
        reason: current.status === "connected" ? null : (options.reason ?? "the upstream answered again"),
        consecutiveFailures: 0,
        pausedUntil: null,
        ...(options.lastSyncedAt !== undefined ? { lastSyncedAt: options.lastSyncedAt } : {}),
      };
    },
    options.now,
  );
}

/**
 * A failed attempt. `probe` marks a background check or a person's retry: it is what may end a
 * pause, so when it fails the pause starts again with a longer window. Ordinary calls that fail
 * while a connection is already paused (they were in flight when it paused) change nothing.
 */
export async function recordUpstreamFailure(
  deps: HealthDeps,
  connection: Pick<ConnectionRow, "id" | "workspaceId">,
  failure: UpstreamFailure,
  reason: string,
  options: { probe?: boolean; now?: number; recent?: RecentCalls } = {},
): Promise<Transition | null> {
  // Not sent: the gateway's own bound, or the upstream's Retry-After in force. Nothing was learnt.
  if (failure.notSent && (failure.kind === "busy" || failure.retryAfterUntil !== undefined)) return null;
  const now = options.now ?? Date.now();
  const changed = await transitionConnection(deps, connection, (current) => nextAfterFailure(deps.config, current, failure, reason, { probe: options.probe ?? false, recent: options.recent }, now), now);
  return changed?.to ?? null;
}

/**
 * `recent`: what this process saw of the connection's calls (a call failed); without it (a
 * background check or a re-sync), a run of `pauseAfterFailures` failures pauses: such checks are
 * seconds apart, so the run already spans time.
 */
function nextAfterFailure(
  config: HealthDeps["config"],
  current: HealthState,
  failure: UpstreamFailure,
  reason: string,
  options: { probe: boolean; recent: RecentCalls | undefined },
  now: number,
): Transition | null {
  if (failure.kind === "auth") {
    return { status: "needs_reauth", reason, consecutiveFailures: current.consecutiveFailures + 1, pausedUntil: null };
  }
  if (current.status === "paused" && !options.probe) return null;
  const failures = current.consecutiveFailures + 1;
  const outage = options.recent ? shouldPause(config, options.recent, now) : failures >= config.pauseAfterFailures;
  if (current.status === "paused" || outage) {
    // A fresh pause counts from the threshold, so that its window is the first one whatever the
    // burst that caused it, and each failed check after it doubles the window once.
    const counted = current.status === "paused" ? Math.max(failures, config.pauseAfterFailures) : config.pauseAfterFailures;
    return { status: "paused", reason, consecutiveFailures: counted, pausedUntil: now + pauseDurationMs(config, counted) };
  }
  return { status: "error", reason, consecutiveFailures: failures, pausedUntil: null };
}
