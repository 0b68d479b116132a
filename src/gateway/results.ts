import type { CallToolResult } from "@modelcontextprotocol/server";
import type { AppDeps } from "../deps.ts";
import type { ConnectionMeta } from "../connections/types.ts";

export type Progress = { progress: number; total?: number; message?: string };
export type TaskTarget = { connection: ConnectionMeta; memberId: string | null };

/** A task-augmented call (see tasks.ts): the task params, and how to answer once the upstream created the task. */
export type TaskCall = {
  params: Record<string, unknown>;
  created(result: Record<string, unknown>, target: TaskTarget): CallToolResult;
};

/**
 * `meta`: the client's request `_meta` to pass on upstream (without its progress token, which the
 * gateway maps itself). `task`: the call asked for a task.
 */
export type CallContext = { signal?: AbortSignal; onProgress?: (progress: Progress) => void; meta?: Record<string, unknown>; task?: TaskCall };
export type CallDeps = Pick<AppDeps, "database" | "keyring" | "config" | "log" | "pool" | "toolIndex" | "accessLog" | "oauth" | "tasks">;

/** A tool result that explains itself to a person; the transport stays healthy. */
export function errorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}
