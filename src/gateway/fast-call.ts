import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  isInputRequiredResult,
  isJsonContentType,
  PROTOCOL_VERSION_META_KEY,
  SERVER_INFO_META_KEY,
  type CallToolRequest,
  type CallToolResult,
  type ClientCapabilities,
  type InputRequiredResult,
  type Tool,
} from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import { callerLogLevel } from "./logging.ts";
import { callToolInView, PRIVATE_LIST, SERVER_INFO } from "./mcp-server.ts";
import type { CallRequest } from "./relayed-call.ts";
import type { CallDeps } from "./results.ts";
import { listToolsInView } from "./tools-in-view.ts";
import type { GatewayView } from "./view.ts";

const MODERN = "2026-07-28";
const PROTOCOL_PREFIX = "io.modelcontextprotocol/";

/** A 2026-07-28 tools/call the fast relay answers: what it names, and the envelope it came with. */
export type FastCall = { id: string | number; params: CallToolRequest["params"]; capabilities: ClientCapabilities };

/**
 * The hot path. A 2026-07-28 tools/call is one JSON message in, one JSON answer out: the SDK's
 * per-request server (made, connected, its request classified twice and validated, its answer
 * validated again) costs the gateway more CPU than the rest of the call. This answers it without
 * that machinery, through the same functions the SDK's handler calls (mcp-server.ts
 * callToolInView: the name resolved in the view, the call relayed, held, logged and counted).
 *
 * Only the plainest calls come here; every other request goes to the SDK as before. A call is
 * taken when it is a single JSON-RPC request whose headers and body agree exactly (MCP-Protocol-
 * Version and the envelope both 2026-07-28, Mcp-Method tools/call, Mcp-Name the tool's name as
 * written) and nothing in it can make the answer a stream or a retry: no progress token (progress
 * is streamed), no log level (log messages are streamed), no task, no inputResponses or
 * requestState (a retry round), no other protocol `_meta` key. With none of those, the SDK too
 * would answer with one JSON body, which this writes the way the SDK's 2026-07-28 codec does.
 */
export function fastCallOf(request: Request, body: unknown): FastCall | null {
  if (!isPlain(body) || body.jsonrpc !== "2.0" || body.method !== "tools/call") return null;
  const id = body.id;
  if (!(typeof id === "string" || Number.isSafeInteger(id))) return null;
  const headers = request.headers;
  if (headers.get("mcp-protocol-version") !== MODERN || headers.get("mcp-method") !== "tools/call") return null;
  if (!isJsonContentType(headers.get("content-type")) || !headers.get("accept")?.includes("application/json")) return null;
  for (const key of Object.keys(body)) if (key !== "jsonrpc" && key !== "id" && key !== "method" && key !== "params") return null;
  const params = body.params;
  if (!isPlain(params) || typeof params.name !== "string" || headers.get("mcp-name") !== params.name) return null;
  if (params.arguments !== undefined && !isPlain(params.arguments)) return null;
  for (const key of Object.keys(params)) if (key !== "name" && key !== "arguments" && key !== "_meta") return null;
  const meta = params._meta;
  if (!isPlain(meta) || meta[PROTOCOL_VERSION_META_KEY] !== MODERN || "progressToken" in meta) return null;
  const capabilities = meta[CLIENT_CAPABILITIES_META_KEY];
  const info = meta[CLIENT_INFO_META_KEY];
  if (!isPlain(capabilities) || !Object.values(capabilities).every(isPlain)) return null;
  if (info !== undefined && !(isPlain(info) && typeof info.name === "string" && typeof info.version === "string")) return null;
  // The envelope's keys are this hop's (the SDK lifts them out of the handler's view): the rest of _meta goes on.
  const entries = Object.entries(meta);
  for (const [key] of entries) {
    if (key.startsWith(PROTOCOL_PREFIX) && key !== PROTOCOL_VERSION_META_KEY && key !== CLIENT_CAPABILITIES_META_KEY && key !== CLIENT_INFO_META_KEY) return null;
  }
  // fromEntries, as the SDK's copy does: a key named "__proto__" stays a key, not a prototype.
  const kept = Object.fromEntries(entries.filter(([key]) => !key.startsWith(PROTOCOL_PREFIX)));
  const name = params.name;
  const args = params.arguments as Record<string, unknown> | undefined;
  return {
    id: id as string | number,
    params: { name, ...(args !== undefined ? { arguments: args } : {}), ...(Object.keys(kept).length > 0 ? { _meta: kept } : {}) },
    capabilities: capabilities as ClientCapabilities,
  };
}

/**
 * Answers a fast call: the result (or the JSON-RPC error) as the SDK would write it. The client
 * going away cancels the call, as with the SDK.
 */
export async function serveFastCall(deps: CallDeps, principal: Principal, view: GatewayView, call: FastCall, signal: AbortSignal): Promise<Response> {
  // No progress token and no log level: nothing is ever sent on this request before its answer.
  const request: CallRequest = { requestState: () => undefined, inputResponses: undefined, notify: async () => undefined, signal } as CallRequest;
  try {
    const result = await callToolInView(deps, principal, view, { method: "tools/call", params: call.params }, request, {
      capabilities: call.capabilities,
      // A 2026-07-28 request without a level hears no log messages.
      log: callerLogLevel({ [PROTOCOL_VERSION_META_KEY]: MODERN }, undefined),
    });
    return answer({ result: encodeResult(result), jsonrpc: "2.0", id: call.id });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const thrown = typeof code === "number" && Number.isSafeInteger(code) ? code : -32603;
    const data = (error as { data?: unknown } | null)?.data;
    const message = (error as { message?: unknown } | null)?.message;
    // The 2026-07-28 codec reports "resource not found" (-32002) as invalid params.
    const error_ = { code: thrown === -32002 ? -32602 : thrown, message: typeof message === "string" ? message : "Internal error", ...(data !== undefined ? { data } : {}) };
    return answer({ jsonrpc: "2.0", id: call.id, error: error_ });
  }
}

/**
 * The SDK's 2026-07-28 encoding of a tools/call result: a complete result gets `content` when it
 * has none and `resultType: "complete"`; an input-required one is sent as it is (relayedCall puts
 * only what the caller declared it can answer in it); both name the server in `_meta` unless a
 * server is named there already.
 */
function encodeResult(result: CallToolResult | InputRequiredResult): Record<string, unknown> {
  let encoded: Record<string, unknown> = result as Record<string, unknown>;
  if (!isInputRequiredResult(result)) {
    if (encoded.content === undefined) encoded = { ...encoded, content: [] };
    if (encoded.resultType === undefined) encoded = { ...encoded, resultType: "complete" };
  }
  const meta = encoded._meta;
  if (meta === undefined) return { ...encoded, _meta: { [SERVER_INFO_META_KEY]: SERVER_INFO } };
  if (!isPlain(meta) || meta[SERVER_INFO_META_KEY] !== undefined) return encoded;
  return { ...encoded, _meta: { ...meta, [SERVER_INFO_META_KEY]: SERVER_INFO } };
}

/** A 2026-07-28 tools/list the fast relay answers: only its id matters, the rest being the envelope. */
export type FastList = { id: string | number };

/**
 * A tools/list whose answer is the list as it is, in one JSON body: a single request whose headers
 * and body say 2026-07-28 and tools/list, with nothing but the envelope in its params (no cursor:
 * the gateway lists in one page, and a cursor would be the SDK's to refuse; no other `_meta`).
 */
export function fastListOf(request: Request, body: unknown): FastList | null {
  if (!isPlain(body) || body.jsonrpc !== "2.0" || body.method !== "tools/list") return null;
  const id = body.id;
  if (!(typeof id === "string" || Number.isSafeInteger(id))) return null;
  const headers = request.headers;
  if (headers.get("mcp-protocol-version") !== MODERN || headers.get("mcp-method") !== "tools/list" || headers.has("mcp-name")) return null;
  if (!isJsonContentType(headers.get("content-type")) || !headers.get("accept")?.includes("application/json")) return null;
  for (const key of Object.keys(body)) if (key !== "jsonrpc" && key !== "id" && key !== "method" && key !== "params") return null;
  const params = body.params;
  if (!isPlain(params)) return null;
  for (const key of Object.keys(params)) if (key !== "_meta") return null;
  const meta = params._meta;
  if (!isPlain(meta) || meta[PROTOCOL_VERSION_META_KEY] !== MODERN) return null;
  for (const key of Object.keys(meta)) if (key !== PROTOCOL_VERSION_META_KEY && key !== CLIENT_CAPABILITIES_META_KEY && key !== CLIENT_INFO_META_KEY) return null;
  const capabilities = meta[CLIENT_CAPABILITIES_META_KEY];
  const info = meta[CLIENT_INFO_META_KEY];
  if (!isPlain(capabilities) || !Object.values(capabilities).every(isPlain)) return null;
  if (info !== undefined && !(isPlain(info) && typeof info.name === "string" && typeof info.version === "string")) return null;
  return { id: id as string | number };
}

// The serialized result of each list, kept by the list itself: listToolsInView hands back the same
// array for as long as the index (and what the view shows of it) is unchanged, and a new one after,
// so whatever decides what a list holds, its answer is never stale. Gone with the list.
const listAnswers = new WeakMap<readonly Tool[], string>();

/**
 * Answers a fast tools/list with the list listToolsInView gives (the SDK's handler asks the same
 * function), written as the SDK's 2026-07-28 codec writes it: the cache hint the gateway sets for
 * lists (mcp-server.ts), `resultType`, and the server named in `_meta`. The result is serialized
 * once per list, not per request: a 2,000-tool list is most of the answer's cost.
 */
export async function serveFastList(deps: Pick<CallDeps, "toolIndex">, principal: Principal, view: GatewayView, list: FastList): Promise<Response> {
  const tools = await listToolsInView(deps, principal, view);
  let result = listAnswers.get(tools);
  if (result === undefined) {
    result = JSON.stringify({ tools, ...PRIVATE_LIST, resultType: "complete", _meta: { [SERVER_INFO_META_KEY]: SERVER_INFO } });
    listAnswers.set(tools, result);
  }
  return new Response(`{"result":${result},"jsonrpc":"2.0","id":${JSON.stringify(list.id)}}`, { headers: { "content-type": "application/json" } });
}

function answer(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
