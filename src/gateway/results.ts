import type { CallToolResult } from "@modelcontextprotocol/server";
import type { AppDeps } from "../deps.ts";
import type { Redactor } from "../connections/redact.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import type { CallTiming } from "../upstream/call-signals.ts";
import type { UpstreamCallChannel } from "../upstream/server-requests.ts";

export type Progress = { progress: number; total?: number; message?: string };
export type TaskTarget = { connection: ConnectionMeta; memberId: string | null };

/** A task-augmented call (see tasks.ts): the task params, and how to answer once the upstream created the task. */
export type TaskCall = {
  params: Record<string, unknown>;
  created(result: Record<string, unknown>, target: TaskTarget): CallToolResult;
};

/**
 * `meta`: the client's request `_meta` to pass on upstream (without its progress token, which the
 * gateway maps itself). `task`: the call asked for a task. `relay`: how the upstream reaches back
 * to this call's client while it runs.
 */
/** `timing`: the call's tally of upstream time (metrics), made where a call enters through the MCP endpoint. */
export type CallContext = { signal?: AbortSignal; onProgress?: (progress: Progress) => void; meta?: Record<string, unknown>; task?: TaskCall; relay?: CallRelay; timing?: CallTiming };

/**
 * How an upstream call reaches back to the client that made it (see held-calls.ts): what the
 * upstream asks (elicitation, sampling, roots) or logs while it runs, and, for a 2026-07-28
 * upstream, the answers it asked for in an `input_required` result.
 */
export type CallRelay = {
  /** Added to the upstream's tools/call params: `inputResponses`, `requestState`, the caller's log level. */
  params?: Record<string, unknown>;
  /** Sends the upstream request; what the upstream asks or logs meanwhile goes to this call's client. */
  run<T>(upstream: { connection: string; redactor: Redactor }, send: () => Promise<T>): Promise<T>;
  /** Where the upstream's log messages for this call go, for a request that reads its own answer (upstream/direct-call.ts). */
  channel(upstream: { connection: string; redactor: Redactor }): UpstreamCallChannel;
};
export type CallDeps = Pick<AppDeps, "database" | "keyring" | "config" | "log" | "pool" | "toolIndex" | "itemIndex" | "resourceWatch" | "accessLog" | "oauth" | "tasks">;

/** A tool result that explains itself to a person; the transport stays healthy. */
export function errorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}
