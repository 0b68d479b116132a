import type { CallToolResult } from "@modelcontextprotocol/server";
import type { AppDeps } from "../deps.ts";
import type { Redactor } from "../connections/redact.ts";

export type Progress = { progress: number; total?: number; message?: string };
export type CallContext = { signal?: AbortSignal; onProgress?: (progress: Progress) => void; relay?: CallRelay };

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
};
export type CallDeps = Pick<AppDeps, "database" | "keyring" | "config" | "log" | "pool" | "toolIndex" | "itemIndex" | "resourceWatch" | "accessLog" | "oauth">;

/** A tool result that explains itself to a person; the transport stays healthy. */
export function errorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}
