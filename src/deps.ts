// The dependencies services and routes share, as types only. Nothing here runs, and nothing it
// imports may import this file back (the import-cycle check in CI holds it to that): services take
// what they need from here, and runtime.ts builds the values.
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import type { Keyring } from "./crypto/encryption.ts";
import type { Logger } from "./log.ts";
import type { UpstreamPool } from "./upstream/pool.ts";
import type { ToolIndex } from "./gateway/tool-index.ts";
import type { ItemIndex } from "./gateway/item-index.ts";
import type { ResourceWatch } from "./gateway/resource-watch.ts";
import type { TaskRoutes } from "./gateway/task-routes.ts";
import type { AccessLogRecorder } from "./accesslog/recorder.ts";
import type { OAuthManager } from "./upstream/oauth/manager.ts";
import type { Clock } from "./clock.ts";
import type { Observability } from "./observe/observability.ts";

/** What every command needs: the CLI's commands stop here, a serving gateway builds the rest. */
export type CoreDeps = {
  config: Config;
  database: Database;
  keyring: Keyring;
  log: Logger;
};

/** The long-lived parts a serving gateway shares, before the MCP endpoint that uses them. */
export type ServiceDeps = CoreDeps & {
  pool: UpstreamPool;
  toolIndex: ToolIndex;
  /** Prompts, resources and templates, rebuilt with the tool index. */
  itemIndex: ItemIndex;
  /** Who listens to which upstream resource (resources/subscribe). */
  resourceWatch: ResourceWatch;
  accessLog: AccessLogRecorder;
  /** Which upstream task each task id given to a client stands for (tasks extension, 2025 revisions). */
  tasks: TaskRoutes;
  /** Upstream OAuth: tokens, refreshes and authorization flows. */
  oauth: OAuthManager;
  /** The time that token refreshes, SSO revalidation and probes go by (tests move it forward). */
  clock: Clock;
  /** Metrics, traces and the watch over connections that stay down. */
  observe: Observability;
};

export type McpEndpoint = {
  /** `path`: the request URL's path, when the caller has read it already. */
  handle(request: Request, path?: string): Promise<Response>;
  /** Tell connected clients of a workspace that its tool list changed (and its prompt and resource lists: one signal for all three). */
  notifyToolsChanged(workspaceId: string): void;
  /** What clients hold open on this replica now (see gateway/open-limits.ts). */
  held(): { sessions: number; streams: number };
  close(): Promise<void>;
};

export type AppDeps = ServiceDeps & { mcp: McpEndpoint };
