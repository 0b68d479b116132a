import type { CallToolResult } from "@modelcontextprotocol/server";
import type { AppDeps } from "../deps.ts";

export type Progress = { progress: number; total?: number; message?: string };
export type CallContext = { signal?: AbortSignal; onProgress?: (progress: Progress) => void };
export type CallDeps = Pick<AppDeps, "database" | "keyring" | "config" | "log" | "pool" | "toolIndex" | "itemIndex" | "resourceWatch" | "accessLog" | "oauth">;

/** A tool result that explains itself to a person; the transport stays healthy. */
export function errorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}
