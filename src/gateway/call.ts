import { ProtocolError, ProtocolErrorCode, type CallToolResult } from "@modelcontextprotocol/server";
import type { AppDeps } from "../app.ts";
import type { Principal } from "../auth/principal.ts";
import type { Outcome } from "../accesslog/recorder.ts";
import { NATIVE_PREFIX, SEPARATOR } from "../connections/names.ts";
import { redactSecret, type UpstreamSecret } from "../connections/credentials.ts";
import { describeUpstreamError } from "../connections/upstream-client.ts";
import { recordUpstreamFailure, recordUpstreamSuccess, unavailableReason } from "./health.ts";
import { callNativeTool } from "./native-tools.ts";

export type Progress = { progress: number; total?: number; message?: string };
export type CallContext = { signal?: AbortSignal; onProgress?: (progress: Progress) => void };
export type CallDeps = Pick<AppDeps, "database" | "keyring" | "config" | "log" | "pool" | "toolIndex" | "accessLog">;

/** A tool result that explains itself to a person; the transport stays healthy. */
export function errorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

/**
 * Routes `connection__tool` to its upstream with the stored credential, or a `gateway__` name to a
 * native tool, and records the call. Upstream trouble comes back as an `isError` result.
 */
export async function callTool(deps: CallDeps, principal: Principal, name: string, args: Record<string, unknown> | undefined, ctx: CallContext = {}): Promise<CallToolResult> {
  const started = performance.now();
  let connectionName: string | null = null;
  let toolName = name;
  let outcome: Outcome = "ok";
  let errorSummary: string | null = null;
  try {
    if (name.startsWith(NATIVE_PREFIX + SEPARATOR)) {
      connectionName = NATIVE_PREFIX;
      toolName = name.slice(NATIVE_PREFIX.length + SEPARATOR.length);
      const result = await callNativeTool(deps, principal, name.slice(NATIVE_PREFIX.length + SEPARATOR.length), args ?? {}, ctx);
      if (result.isError) [outcome, errorSummary] = ["tool_error", firstText(result)];
      return result;
    }
    const index = await deps.toolIndex.get(principal.workspaceId);
    const route = index.routes.get(name);
    const connection = route ? index.connections.get(route.connectionId) : undefined;
    if (!route || !connection) {
      [outcome, errorSummary] = ["denied", "unknown tool"];
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}. Call gateway__search_tools to find tools by name or purpose.`);
    }
    connectionName = connection.name;
    toolName = route.definition.name;
    if (!route.enabled) {
      [outcome, errorSummary] = ["denied", "tool turned off"];
      return errorResult(`${name} is turned off in the gateway. A workspace admin can turn it on in the dashboard.`);
    }
    const unavailable = unavailableReason(connection);
    if (unavailable) {
      [outcome, errorSummary] = ["upstream_error", unavailable];
      return errorResult(unavailable);
    }

    let secret: UpstreamSecret | null = null;
    try {
      const pooled = await deps.pool.get(connection);
      secret = pooled.secret;
      const deadline = connection.callTimeoutMs ?? deps.config.callTimeoutMs;
      const result = (await pooled.client.callTool(
        { name: route.definition.name, arguments: args ?? {} },
        {
          signal: ctx.signal,
          timeout: deadline,
          maxTotalTimeout: deadline,
          ...(ctx.onProgress ? { onprogress: (p: Progress) => ctx.onProgress?.(p) } : {}),
        },
      )) as CallToolResult;
      await recordUpstreamSuccess(deps, connection);
      if (result.isError) [outcome, errorSummary] = ["tool_error", firstText(result)];
      return result;
    } catch (error) {
      if (ctx.signal?.aborted) {
        [outcome, errorSummary] = ["upstream_error", "cancelled by the client"];
        return errorResult("The call was cancelled.");
      }
      const failure = describeUpstreamError(error);
      const reason = redactSecret(failure.message, secret);
      [outcome, errorSummary] = ["upstream_error", reason];
      if (failure.kind !== "protocol" && failure.kind !== "timeout") deps.pool.drop(connection.id);
      await recordUpstreamFailure(deps, connection, failure, reason);
      if (failure.kind === "auth") {
        return errorResult(`${connection.name} needs re-authorization in the gateway dashboard: ${reason}.`);
      }
      if (failure.kind === "timeout") {
        return errorResult(`${connection.name} did not answer within ${Math.round((connection.callTimeoutMs ?? deps.config.callTimeoutMs) / 1000)} s; the call was cancelled. Try again, or raise the connection's timeout.`);
      }
      return errorResult(`${connection.name} failed: ${reason}.`);
    }
  } finally {
    deps.accessLog.record({
      at: Date.now(),
      workspaceId: principal.workspaceId,
      userId: principal.userId,
      apiKeyId: principal.apiKeyId,
      connectionName,
      tool: toolName,
      outcome,
      latencyMs: Math.round(performance.now() - started),
      errorSummary,
    });
  }
}

function firstText(result: CallToolResult): string | null {
  const block = result.content?.find((c) => c.type === "text");
  return block && "text" in block ? String(block.text).slice(0, 300) : null;
}
