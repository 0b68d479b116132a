import type { ConnectionMeta } from "./types.ts";
import { STATUS_LABEL } from "./status.ts";

/** What an API response may say about a connection: never its credential. */
export function publicConnection(c: ConnectionMeta): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    url: c.url,
    sharing: c.sharing,
    auth: c.authKind === "header" ? { kind: "header", header: c.authHeader } : { kind: c.authKind },
    status: c.status,
    statusLabel: STATUS_LABEL[c.status],
    statusDetail: c.statusDetail,
    consecutiveFailures: c.consecutiveFailures,
    pausedUntil: c.pausedUntil,
    lastSyncedAt: c.lastSyncedAt,
    callTimeoutMs: c.callTimeoutMs,
    tools: c.toolCount,
    enabledTools: c.enabledToolCount,
    /** Enabled tools, prompts and templates that changed upstream and wait for review; and the connection's review settings. */
    held: c.held,
    heldMode: c.heldMode,
    exposeNewTools: c.exposeNewTools,
    createdAt: c.createdAt,
  };
}
