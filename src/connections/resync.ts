import { describeUpstreamError, isRetryableDiscovery } from "../upstream/client.ts";
import { recordUpstreamFailure, recordUpstreamSuccess } from "../upstream/health.ts";
import { DEFAULT_RETRY, deadlineSignal, withRetries } from "../upstream/retry.ts";
import type { ConnectionDeps } from "./connection-deps.ts";
import { findDiscoveryMember } from "./member-credentials.ts";
import { getConnection } from "./queries.ts";
import { redactSecret } from "./redact.ts";
import type { UpstreamSecret } from "./secret.ts";
import { NO_MEMBER_CONNECTED } from "./status.ts";
import { discoverTools, storeTools, type SyncReport } from "./sync.ts";
import { discoverItems, storeItems, type ItemDefinition } from "./item-sync.ts";
import { recordSyncReview } from "./held-record.ts";
import { describeServer, storeServerProfile, type ServerProfile } from "./server-profile.ts";

export type SyncResult = { ok: true; report: SyncReport } | { ok: false; error: string } | { ok: false; notFound: true };

/** Re-lists the upstream's tools now and reports what was added, removed and changed. */
export async function syncConnection(deps: ConnectionDeps, workspaceId: string, id: string, now = Date.now()): Promise<SyncResult> {
  return resyncConnection(deps, workspaceId, id, { why: "re-synced", now });
}

/**
 * "Retry now" from the dashboard: checks the connection at once, whatever its status or pause
 * window, by listing its tools. Success makes it Connected with its tools re-synced; failure keeps
 * it in Error (or Paused, with a longer window). Read the connection again for the new status.
 */
export async function retryConnectionNow(deps: ConnectionDeps, workspaceId: string, id: string): Promise<SyncResult> {
  return resyncConnection(deps, workspaceId, id, { why: "retried now by a person" });
}

/**
 * Lists the upstream's tools and stores them: the one check that can end an Error or a pause.
 * Discovery changes nothing upstream, so it is retried with backoff inside the deadline (unless
 * `attempts` says otherwise). One runs at a time per connection; a second caller shares the
 * running one's outcome.
 */
export async function resyncConnection(
  deps: ConnectionDeps,
  workspaceId: string,
  id: string,
  options: { why: string; now?: number; attempts?: number; /** Lists as this member when none has connected yet. */ as?: string },
): Promise<SyncResult> {
  const connection = await getConnection(deps, workspaceId, id);
  if (!connection) return { ok: false, notFound: true };
  // A per-member connection's tools are listed with the credential of whoever connected first.
  const discoveryUser = connection.sharing === "per_member" ? ((await findDiscoveryMember(deps.database, id)) ?? options.as ?? null) : null;
  if (connection.sharing === "per_member" && !discoveryUser) return { ok: false, error: `Sync failed: ${NO_MEMBER_CONNECTED.toLowerCase()}.` };
  return deps.pool.probeOnce(id, async (): Promise<SyncResult> => {
    const timeoutMs = connection.callTimeoutMs ?? deps.config.callTimeoutMs;
    const deadline = deadlineSignal(timeoutMs);
    let secret: UpstreamSecret | null = null;
    let server: ServerProfile | null = null;
    try {
      let items: ItemDefinition[] | null = null;
      const tools = await withRetries(
        () =>
          deps.pool.use(connection, { signal: deadline.signal, userId: discoveryUser }, async (pooled) => {
            secret = pooled.secret;
            server = describeServer(pooled.client);
            const listed = await discoverTools(pooled.client, Math.max(1, deadline.at - Date.now()));
            // Prompts and resources are extras: a server whose lists of them fail keeps its tools
            // (and its last stored prompts and resources) rather than going to Error.
            items = await discoverItems(pooled.client, Math.max(1, deadline.at - Date.now())).catch((error: unknown) => {
              deps.log.debug("prompts/resources discovery failed", { connection: connection.name, error: redactSecret(describeUpstreamError(error).message, pooled.secret) });
              return null;
            });
            return listed;
          }),
        {
          deadlineAt: deadline.at,
          signal: deadline.signal,
          policy: { ...DEFAULT_RETRY, attempts: options.attempts ?? DEFAULT_RETRY.attempts },
          retryable: (error) => isRetryableDiscovery(describeUpstreamError(error)),
        },
      );
      const now = options.now ?? Date.now();
      const found = items as ItemDefinition[] | null;
      const profile = server as ServerProfile | null;
      const profileChanged = profile !== null && !sameProfile(profile, connection);
      const [report, itemReport] = await deps.database.transaction(async (tx) => {
        if (profile && profileChanged) await storeServerProfile(tx, deps.database, id, profile);
        const stored = [
          await storeTools(tx, deps.database, id, tools, { now, enabled: () => connection.exposeNewTools }),
          // New prompts and resources follow the rule new tools follow (exposure.ts).
          found ? await storeItems(tx, deps.database, id, found, { now, enabled: connection.exposeNewTools }) : null,
        ] as const;
        await recordSyncReview(deps.database, tx, connection, stored, now);
        return stored;
      });
      await recordUpstreamSuccess(deps, connection, { lastSyncedAt: now, reason: `${options.why}: tools listed`, now });
      const changes = (r: SyncReport | null): number => (r ? r.added.length + r.removed.length + r.changed.length : 0);
      if (changes(report) + changes(itemReport) > 0) deps.toolIndex.changed(workspaceId);
      // New capabilities or instructions reach clients that connect (or discover) from now on.
      else if (profileChanged) deps.toolIndex.refresh(workspaceId);
      return { ok: true, report };
    } catch (error) {
      const failure = describeUpstreamError(error);
      const reason = redactSecret(failure.message, secret);
      await recordUpstreamFailure(deps, connection, failure, reason, { probe: true, now: options.now });
      return { ok: false, error: `Sync failed: ${reason}.` };
    } finally {
      deadline.clear();
    }
  });
}

function sameProfile(profile: ServerProfile, connection: { serverCapabilities: unknown; serverInstructions: string | null }): boolean {
  return profile.instructions === connection.serverInstructions && JSON.stringify(profile.capabilities) === JSON.stringify(connection.serverCapabilities ?? null);
}
