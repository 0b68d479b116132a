import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  isJsonContentType,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  SERVER_INFO_META_KEY,
  specTypeSchemas,
  type CallToolResult,
  type Client,
  type ClientCapabilities,
  type JsonSchemaType,
  type LoggingMessageNotification,
  type Tool,
} from "@modelcontextprotocol/client";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/client/validators/ajv";
import { ResponseTooLarge } from "../net/response-budget.ts";
import { AnswerCutOff, tooLargeMessage, WATCH_HEADER } from "./answer-watch.ts";
import type { HeldAnswer } from "./outbound-fetch.ts";

const MODERN = "2026-07-28";

/**
 * What a connected upstream client needs to send a tools/call itself: where, with which headers
 * (the stored credential), through which fetch (the transport's own: the URL guard, size caps,
 * bytes in flight, open-request bounds, Retry-After, the call tag's abort; its `held` form, as the
 * body is read here and not wrapped to tell when it ends), and how it describes itself in the
 * 2026-07-28 envelope.
 */
export type DirectRoute = { url: string; headers: Record<string, string>; send: (input: string, init: RequestInit) => Promise<HeldAnswer>; clientInfo: { name: string; version: string }; capabilities: ClientCapabilities };

const routes = new WeakMap<Client, DirectRoute>();

/** Lets `client`'s plain tools/calls be sent without it (see callDirect). Not for OAuth connections: token refresh is the SDK transport's. */
export function allowDirectCalls(client: Client, route: DirectRoute): void {
  routes.set(client, route);
}

/**
 * The route for a direct tools/call on `client`, when one is allowed: a 2026-07-28 upstream (one
 * JSON message in, one answer out, no session) whose tool needs nothing of what only the SDK
 * client does (`x-mcp-header` arguments mirrored into headers; a name the headers must encode).
 */
export function directRouteOf(client: Client, tool: Tool): DirectRoute | undefined {
  const route = routes.get(client);
  if (route === undefined || client.getNegotiatedProtocolVersion() !== MODERN) return undefined;
  if (!PLAIN_NAME.test(tool.name) || declaresHeaders(tool)) return undefined;
  return route;
}

// What goes into Mcp-Name as it is (the SDK Base64-encodes anything else).
const PLAIN_NAME = /^[A-Za-z0-9_.\-/]{1,128}$/;

const headerScans = new WeakMap<Tool, boolean>();

/** Whether the tool's input schema asks for arguments mirrored into headers (SEP-2243), which the SDK client does. */
function declaresHeaders(tool: Tool): boolean {
  let found = headerScans.get(tool);
  if (found === undefined) {
    found = JSON.stringify(tool.inputSchema ?? {}).includes('"x-mcp-header"');
    headerScans.set(tool, found);
  }
  return found;
}

/** The call must go through the SDK client after all: the upstream refused it before running it (a redirect, an auth challenge). */
export class SendThroughClient extends Error {
  constructor(readonly status: number) {
    super(`the upstream answered HTTP ${status}`);
    this.name = "SendThroughClient";
  }
}

export type DirectCallOptions = {
  signal: AbortSignal;
  headers: Record<string, string>;
  onprogress: (progress: { progress: number; total?: number; message?: string }) => void;
  /** The upstream's log messages during the call (notifications/message). */
  onlog: (params: LoggingMessageNotification["params"]) => void;
  toolDefinition: Tool;
};

export type InputRequiredValue = { resultType: "input_required"; inputRequests: Record<string, unknown>; requestState?: string; _meta?: Record<string, unknown> };

// Request ids per client, from 0 as the SDK client counts its own: an upstream sees the same kind of ids either way.
const nextIds = new WeakMap<Client, number>();

/**
 * One tools/call sent to a 2026-07-28 upstream without the SDK client, answered as the SDK client
 * would answer it (`callTool` with `allowInputRequired`): the same request on the wire (envelope,
 * progress token, Mcp-* headers), the same result (resultType lifted, the result schema's parse,
 * structured content checked against the tool's output schema), the same errors (the upstream's
 * JSON-RPC error as a ProtocolError, an HTTP failure as an SdkHttpError, a cancel as a
 * RequestTimeout, a broken stream as an AnswerCutOff). What it skips is the SDK client's own
 * machinery around one message: its validation of every message it sends and receives, its
 * per-request timer and bookkeeping. This call's progress and log messages go to `onprogress`
 * and `onlog`; other notifications (list changes) go to the client as if its transport had read
 * them.
 *
 * Throws SendThroughClient when the upstream answered with a redirect or an auth challenge:
 * nothing ran, and the SDK client knows how to follow those.
 */
export async function callDirect(client: Client, route: DirectRoute, params: { name: string; _meta?: Record<string, unknown> } & Record<string, unknown>, options: DirectCallOptions): Promise<CallToolResult | InputRequiredValue> {
  const validate = outputValidatorOf(options.toolDefinition);
  const id = nextIds.get(client) ?? 0;
  nextIds.set(client, id + 1);
  // The params as given (a retry round's inputResponses and requestState included), the envelope in _meta.
  const meta = { [PROTOCOL_VERSION_META_KEY]: MODERN, [CLIENT_INFO_META_KEY]: route.clientInfo, [CLIENT_CAPABILITIES_META_KEY]: route.capabilities, ...params._meta, progressToken: id };
  const body = JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { ...params, _meta: meta } });
  const headers: Record<string, string> = { ...route.headers };
  for (const [name, value] of Object.entries(options.headers)) if (name !== WATCH_HEADER) headers[name] = value;
  headers["content-type"] = "application/json";
  headers.accept = "application/json, text/event-stream";
  headers["mcp-protocol-version"] = MODERN;
  headers["mcp-method"] = "tools/call";
  headers["mcp-name"] = params.name;
  const signal = options.signal;
  let held: HeldAnswer;
  try {
    held = await route.send(route.url, { method: "POST", headers, body, redirect: "manual", signal });
  } catch (error) {
    throw signal.aborted ? cancelled(signal) : error;
  }
  let message: Answer;
  try {
    message = await answerOf(client, held.response, id, signal, options);
  } finally {
    // Read to its end or given up on: what the request held (its open-request place) goes back.
    held.done();
  }
  if (message.error !== undefined) throw ProtocolError.fromError(message.error.code, message.error.message, message.error.data);
  return decodeResult(params.name, message.result, validate);
}

type Answer = { result?: unknown; error?: { code: number; message: string; data?: unknown } };

/** Reads the answer to request `id` from the response, whatever its form, or throws as the SDK's transport would. */
async function answerOf(client: Client, response: Response, id: number, signal: AbortSignal, listen: Listeners): Promise<Answer> {
  if (response.status >= 300 && response.status < 400) {
    await discard(response);
    throw new SendThroughClient(response.status);
  }
  if (!response.ok) {
    const text = await response.text().catch(() => null);
    if (response.status === 401 || response.status === 403) throw new SendThroughClient(response.status);
    // A 2026-07-28 server may answer a request it refuses with its JSON-RPC error and a 400.
    if (response.status === 400 && typeof text === "string") {
      const error = errorFor(parseMessage(text), id);
      if (error) return error;
    }
    throw new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint: ${text}`, { status: response.status, statusText: response.statusText, text });
  }
  const type = response.headers.get("content-type");
  if (response.status === 202 || response.body === null) {
    await discard(response);
    throw new AnswerCutOff("the server accepted the call but sent no answer");
  }
  if (isEventStream(type)) return readEventStream(client, response.body, id, signal, listen);
  if (!isJsonContentType(type)) {
    await discard(response);
    throw new SdkError(SdkErrorCode.ClientHttpUnexpectedContent, `Unexpected content type: ${type}`, { contentType: type });
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw signal.aborted ? cancelled(signal) : error;
  }
  // Not JSON: a SyntaxError, as the SDK's `response.json()` throws.
  const data: unknown = JSON.parse(text);
  let answer: Answer | undefined;
  for (const message of Array.isArray(data) ? data : [data]) {
    if (!isJsonRpc(message)) throw new SdkError(SdkErrorCode.InvalidResult, "the server's answer is not a JSON-RPC message");
    const mine = answerFor(message, id);
    if (mine) answer ??= mine;
    else if (typeof message.method === "string") deliver(client, message, id, listen);
  }
  if (answer === undefined) throw new AnswerCutOff("the server answered without the call's result");
  return answer;
}

/** An event stream: this call's progress to `onprogress`, other messages to the client, until the answer. */
async function readEventStream(client: Client, body: ReadableStream<Uint8Array>, id: number, signal: AbortSignal, listen: Listeners): Promise<Answer> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  let event = "";
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal.aborted) throw cancelled(signal);
        if (error instanceof ResponseTooLarge) throw new AnswerCutOff(tooLargeMessage(error), true);
        throw new AnswerCutOff("the server dropped the connection in the middle of its answer");
      }
      if (chunk.done) throw new AnswerCutOff("the server ended its answer stream without answering");
      buffer += decoder.decode(chunk.value, { stream: true });
      for (;;) {
        const end = buffer.search(/[\r\n]/);
        // A CR that ends the chunk may be the first half of a CRLF: wait for the next chunk.
        if (end === -1 || (buffer[end] === "\r" && end === buffer.length - 1)) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(buffer[end] === "\r" && buffer[end + 1] === "\n" ? end + 2 : end + 1);
        if (line === "") {
          // An event: a message when it has data and is unnamed or named "message".
          if (data.length > 0 && (event === "" || event === "message")) {
            // What is not a JSON-RPC message is passed over, as the SDK's transport does.
            const message = parseMessage(data.join("\n"));
            if (isJsonRpc(message)) {
              const mine = answerFor(message, id);
              if (mine) return mine;
              if (typeof message.method === "string") deliver(client, message, id, listen);
            }
          }
          data = [];
          event = "";
          continue;
        }
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? "" : line.slice(line[colon + 1] === " " ? colon + 2 : colon + 1);
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
      }
    }
  } finally {
    // The answer is in (or the call is over): the rest of the stream is not read.
    void reader.cancel().catch(() => undefined);
  }
}

/** A notification (or request) that is not this call's answer, delivered as the SDK client's transport would. */
function deliver(client: Client, message: Record<string, unknown>, id: number, listen: Listeners): void {
  if (message.method === "notifications/progress" && isPlain(message.params)) {
    const { progressToken, ...progress } = message.params;
    if (progressToken === id && typeof progress.progress === "number") listen.onprogress(progress as { progress: number });
    return;
  }
  if (message.method === "notifications/message") {
    if (isPlain(message.params) && typeof message.params.level === "string") listen.onlog(message.params as LoggingMessageNotification["params"]);
    return;
  }
  // 2026-07-28 has no requests from server to client: one in the answer (a stray 2025 habit) is dropped.
  if (message.id !== undefined) return;
  client.transport?.onmessage?.(message as never);
}

type Listeners = Pick<DirectCallOptions, "onprogress" | "onlog">;

/** `message` when it is the answer to request `id`. */
function answerFor(message: Record<string, unknown>, id: number): Answer | null {
  if (message.id !== id || typeof message.method === "string") return null;
  if ("result" in message) return { result: message.result };
  return errorFor(message, id);
}

function errorFor(message: Record<string, unknown> | null, id: number): Answer | null {
  if (!message || message.id !== id || !isPlain(message.error)) return null;
  const { code, message: text, data } = message.error;
  if (typeof code !== "number" || typeof text !== "string") return null;
  return { error: { code, message: text, ...(data !== undefined ? { data } : {}) } };
}

/**
 * The SDK client's 2026-07-28 decoding of a tools/call result: `resultType` says complete (lifted
 * off) or input_required (returned as its value); a complete result is parsed with the SDK's own
 * schema (which drops what a content block may not carry) and its structured content checked
 * against the tool's output schema.
 */
function decodeResult(name: string, raw: unknown, validate: OutputValidator | undefined): CallToolResult | InputRequiredValue {
  if (!isPlain(raw)) throw new SdkError(SdkErrorCode.InvalidResult, "Invalid result for tools/call: not an object", { method: "tools/call" });
  const resultType = raw.resultType;
  if (resultType === undefined) throw new SdkError(SdkErrorCode.InvalidResult, "Invalid result for tools/call: missing required resultType — servers implementing protocol revision 2026-07-28 MUST include it (the absent-means-complete bridge applies only to earlier-revision servers)", { method: "tools/call" });
  if (resultType === "input_required") {
    const inputRequests = isPlain(raw.inputRequests) ? raw.inputRequests : {};
    const requestState = raw.requestState;
    if (Object.keys(inputRequests).length === 0 && typeof requestState !== "string") {
      throw new SdkError(SdkErrorCode.InvalidResult, "Invalid result for tools/call: input_required carries neither inputRequests nor requestState", { method: "tools/call" });
    }
    return { resultType: "input_required", inputRequests, ...(typeof requestState === "string" ? { requestState } : {}), ...(isPlain(raw._meta) ? { _meta: raw._meta } : {}) };
  }
  if (resultType !== "complete") throw new SdkError(SdkErrorCode.UnsupportedResultType, `Unsupported result type '${String(resultType)}' for tools/call`, { resultType, method: "tools/call" });
  const { resultType: _, ...lifted } = raw;
  const result = parsesAsItIs(lifted) ? (lifted as CallToolResult) : parseResult(lifted);
  if (validate && !result.isError) {
    if (result.structuredContent === undefined) throw new ProtocolError(ProtocolErrorCode.InvalidRequest, `Tool ${name} has an output schema but did not return structured content`);
    const checked = validate(result.structuredContent);
    if (!checked.valid) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Structured content does not match the tool's output schema: ${checked.errorMessage}`);
  }
  return result;
}

function parseResult(lifted: Record<string, unknown>): CallToolResult {
  const parsed = specTypeSchemas.CallToolResult["~standard"].validate(lifted);
  if (parsed instanceof Promise) throw new SdkError(SdkErrorCode.InvalidResult, "Invalid result for tools/call");
  if (parsed.issues) throw new SdkError(SdkErrorCode.InvalidResult, `Invalid result for tools/call: ${parsed.issues.map((issue) => issue.message).join("; ")}`);
  return parsed.value as CallToolResult;
}

/**
 * True only for a result the SDK's CallToolResult schema would give back unchanged, so its parse
 * can be skipped: text content blocks with nothing but `type` and `text`, an `isError` that is a
 * boolean, `_meta` whose server info (if any) is a bare name, version and title. Anything else —
 * another block type, a block's annotations or `_meta`, an icon — is parsed by the schema, which
 * drops or replaces what it does not accept (test/direct-call.test.ts holds the two side by side).
 */
export function parsesAsItIs(result: Record<string, unknown>): boolean {
  const content = result.content;
  if (!Array.isArray(content)) return false;
  for (const block of content) {
    if (!isPlain(block) || block.type !== "text" || typeof block.text !== "string") return false;
    let keys = 0;
    for (const _ in block) keys++;
    if (keys !== 2) return false;
  }
  if (result.isError !== undefined && typeof result.isError !== "boolean") return false;
  const meta = result._meta;
  if (meta === undefined) return true;
  if (!isPlain(meta)) return false;
  const info = meta[SERVER_INFO_META_KEY];
  if (info === undefined) return !(SERVER_INFO_META_KEY in meta);
  if (!isPlain(info) || typeof info.name !== "string" || typeof info.version !== "string") return false;
  for (const key in info) if (key !== "name" && key !== "version" && !(key === "title" && typeof info.title === "string")) return false;
  return true;
}

type OutputValidator = (input: unknown) => { valid: boolean; errorMessage?: string };

// The SDK client's default validator, one for every direct call; each tool's compiled once (by its definition).
const schemas = new AjvJsonSchemaValidator();
const validators = new WeakMap<Tool, { validator?: OutputValidator; error?: string }>();

/** The tool's output-schema check, or why its schema cannot be one (the SDK refuses such a call before sending it). */
function outputValidatorOf(tool: Tool): OutputValidator | undefined {
  let compiled = validators.get(tool);
  if (compiled === undefined) {
    try {
      compiled = tool.outputSchema ? { validator: schemas.getValidator(tool.outputSchema as JsonSchemaType) as OutputValidator } : {};
    } catch (error) {
      compiled = { error: (error instanceof Error ? error.message : String(error)).slice(0, 200) };
    }
    validators.set(tool, compiled);
  }
  if (compiled.error !== undefined) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool '${tool.name}' has an invalid outputSchema: ${compiled.error}`);
  return compiled.validator;
}

function cancelled(signal: AbortSignal): SdkError {
  const reason = signal.reason;
  return reason instanceof SdkError ? reason : new SdkError(SdkErrorCode.RequestTimeout, String(reason));
}

function parseMessage(text: string): Record<string, unknown> | null {
  try {
    const message: unknown = JSON.parse(text);
    return isPlain(message) ? message : null;
  } catch {
    return null;
  }
}

/** A JSON-RPC 2.0 request, notification or response, by its shape. */
function isJsonRpc(message: unknown): message is Record<string, unknown> {
  if (!isPlain(message) || message.jsonrpc !== "2.0") return false;
  if (typeof message.method === "string") return message.params === undefined || isPlain(message.params);
  return (typeof message.id === "string" || typeof message.id === "number") && ("result" in message || isPlain(message.error));
}

function isEventStream(type: string | null): boolean {
  return type !== null && type.split(";")[0]!.trim().toLowerCase() === "text/event-stream";
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
