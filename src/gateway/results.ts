import type { CallToolResult } from "@modelcontextprotocol/server";
import type { AppDeps } from "../deps.ts";

export type Progress = { progress: number; total?: number; message?: string };
/** `meta`: the client's request `_meta` to pass on upstream (without its progress token, which the gateway maps itself). */
export type CallContext = { signal?: AbortSignal; onProgress?: (progress: Progress) => void; meta?: Record<string, unknown> };
export type CallDeps = Pick<AppDeps, "database" | "keyring" | "config" | "log" | "pool" | "toolIndex" | "accessLog" | "oauth">;

/** A tool result that explains itself to a person; the transport stays healthy. */
export function errorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}
