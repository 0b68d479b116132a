import { z } from "zod";
import { ProtocolError, ProtocolErrorCode, RELATED_TASK_META_KEY, type CallToolResult, type Server } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import { describeUpstreamError } from "../upstream/client.ts";
import type { PooledClient } from "../upstream/pool.ts";
import { holderOf } from "./open-limits.ts";
import type { CallDeps, TaskCall } from "./results.ts";
import type { Caller, TaskRoute } from "./task-routes.ts";

/**
 * The tasks extension as the 2025 revisions carry it (2025-11-25): a task-augmented tools/call is
 * relayed to the tool's upstream, and tasks/get, tasks/result, tasks/list and tasks/cancel reach the
 * upstream that owns the task, through the same pooled client (the upstream keeps tasks per
 * session). 2026-07-28 moved tasks to an extension that SDK 2.4.0 neither serves nor sends: there,
 * `execution` and the `tasks` capability are left out of answers by the SDK itself.
 */

/** The SDK validates spec results against the core schemas, where a CreateTaskResult is no tools/call result: these are checked here. */
const TASK = z.looseObject({ taskId: z.string(), status: z.string() });
const CREATE_TASK_RESULT = z.looseObject({ task: TASK });
const TASK_RESULT = z.looseObject({ taskId: z.string() });
const ANY_RESULT = z.looseObject({});

/** tasks/list answers with the caller's newest tasks, each asked of its upstream: at most this many. */
const MAX_LISTED_TASKS = 50;

export function callerOf(principal: Principal): Caller {
  return { workspaceId: principal.workspaceId, holder: holderOf(principal).key };
}

/** The task call of a tools/call that asked for a task, or undefined when it did not. */
export function taskCallOf(deps: CallDeps, principal: Principal, task: unknown): TaskCall | undefined {
  if (typeof task !== "object" || task === null || Array.isArray(task)) return undefined;
  return {
    params: task as Record<string, unknown>,
    created(result, target) {
      const parsed = CREATE_TASK_RESULT.safeParse(result);
      if (!parsed.success) throw new ProtocolError(ProtocolErrorCode.InternalError, `${target.connection.name} answered a task-augmented call without a task.`);
      const upstream = parsed.data.task;
      const id = deps.tasks.add(callerOf(principal), { connectionId: target.connection.id, memberId: target.memberId, upstreamTaskId: upstream.taskId }, numberOrNull(upstream.ttl));
      // `content: []`: SDK 2.4.0's server accepts no tools/call result without content. A client
      // that asked for a task reads `task` and ignores it.
      return { ...parsed.data, task: { ...upstream, taskId: id }, content: [] } as CallToolResult;
    },
  };
}

/** A task-augmented tools/call: its result (a CreateTaskResult, no tools/call result to the SDK) is checked here. */
export async function sendTaskCall(pooled: PooledClient, params: Record<string, unknown>, options: object): Promise<Record<string, unknown>> {
  return pooled.client.request({ method: "tools/call", params } as never, CREATE_TASK_RESULT, options as never);
}

/** tasks/get, tasks/result, tasks/list, tasks/cancel for this caller's tasks. */
export function registerTaskHandlers(server: Server, deps: CallDeps, principal: Principal): void {
  const caller = callerOf(principal);
  const relay = async (method: string, clientTaskId: unknown, schema: z.ZodType<Record<string, unknown>>, timeoutMs: number, signal: AbortSignal): Promise<Record<string, unknown>> => {
    const route = typeof clientTaskId === "string" ? deps.tasks.find(caller, clientTaskId) : null;
    const connection = route ? (await deps.toolIndex.get(principal.workspaceId)).connections.get(route.connectionId) : undefined;
    // Not created by this caller, expired, or its connection removed: all look alike.
    if (!route || !connection) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown task: ${String(clientTaskId)}`);
    const result = await relayToUpstream(deps, connection, route, { method, params: { taskId: route.upstreamTaskId } }, schema, timeoutMs, signal);
    return withClientTaskId(result, route.upstreamTaskId, clientTaskId as string);
  };
  const { callTimeoutMs, callMaxTotalMs } = deps.config;
  // The 2025 task methods are not in SDK 2.4.0's typed surface: registered with their params schema.
  const byId = { params: z.looseObject({ taskId: z.string() }) };
  server.setRequestHandler("tasks/get", byId, (params, ctx) => relay("tasks/get", params.taskId, TASK_RESULT, callTimeoutMs, ctx.mcpReq.signal));
  server.setRequestHandler("tasks/cancel", byId, (params, ctx) => relay("tasks/cancel", params.taskId, TASK_RESULT, callTimeoutMs, ctx.mcpReq.signal));
  // tasks/result waits for the task to end: as long as any call may run.
  server.setRequestHandler("tasks/result", byId, (params, ctx) => relay("tasks/result", params.taskId, ANY_RESULT, callMaxTotalMs, ctx.mcpReq.signal));
  server.setRequestHandler("tasks/list", { params: z.looseObject({}).optional() }, async (_params, ctx) => {
    const mine = deps.tasks.list(caller, MAX_LISTED_TASKS);
    const tasks = await Promise.all(mine.map(({ id }) => relay("tasks/get", id, TASK_RESULT, callTimeoutMs, ctx.mcpReq.signal).catch(() => null)));
    return { tasks: tasks.filter((task) => task !== null) };
  });
}

async function relayToUpstream(
  deps: CallDeps,
  connection: ConnectionMeta,
  route: TaskRoute,
  request: { method: string; params: Record<string, unknown> },
  schema: z.ZodType<Record<string, unknown>>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  let redact: ((value: Record<string, unknown>) => Record<string, unknown>) | null = null;
  let redactText = (text: string): string => text;
  try {
    return await deps.pool.use(connection, { signal, userId: route.memberId }, async (pooled) => {
      redact = (value) => pooled.redactor.redactValue(value);
      redactText = (text) => pooled.redactor.redactText(text);
      const result = await pooled.client.request(request as never, schema, { signal, timeout: timeoutMs } as never);
      return pooled.redactor.redactValue(result as Record<string, unknown>);
    });
  } catch (error) {
    // The upstream's own JSON-RPC error passes through, as for tools/call.
    if (error instanceof ProtocolError && typeof error.code === "number") {
      throw new ProtocolError(error.code, redactText(error.message), error.data === undefined ? undefined : (redact as ((v: unknown) => unknown) | null)?.(error.data) ?? error.data);
    }
    const reason = redactText(describeUpstreamError(error).message);
    throw new ProtocolError(ProtocolErrorCode.InternalError, `${connection.name} failed: ${reason}.`);
  }
}

/** The upstream's task id, wherever a task answer carries it, replaced by the one the client knows. */
function withClientTaskId(result: Record<string, unknown>, upstreamId: string, clientId: string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...result };
  if (copy.taskId === upstreamId) copy.taskId = clientId;
  const meta = copy._meta as Record<string, unknown> | undefined;
  const related = meta?.[RELATED_TASK_META_KEY] as Record<string, unknown> | undefined;
  if (meta && related?.taskId === upstreamId) copy._meta = { ...meta, [RELATED_TASK_META_KEY]: { ...related, taskId: clientId } };
  return copy;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" ? value : null;
}
