import { describe, expect, test } from "bun:test";
import { InsufficientScopeError, ProtocolError, SdkError, SdkErrorCode, SdkHttpError, UnauthorizedError } from "@modelcontextprotocol/client";
import { UpstreamUrlRefused } from "../net/guarded-fetch.ts";
import { ResponseTooLarge } from "../net/response-budget.ts";
import { DecryptionError } from "../crypto/encryption.ts";
import { Redactor } from "../connections/redact.ts";
import { NeedsReauthorization } from "./oauth/errors.ts";
import { AnswerCutOff } from "./answer-watch.ts";
import { describeUpstreamError, isRetryableCall, isRetryableDiscovery, SessionLost, ToolListTooLong, type UpstreamFailure } from "./client.ts";

const httpError = (status: number): SdkHttpError => new SdkHttpError(SdkErrorCode.ClientHttpFailedToOpenStream, `HTTP ${status}`, { status, statusText: "" });
const withCode = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe("describeUpstreamError: what the SDK or the network threw, in words and a kind", () => {
  const cases: [string, unknown, Partial<UpstreamFailure>][] = [
    ["a refused URL never left", new UpstreamUrlRefused("the address is not allowed"), { kind: "refused_url", message: "the address is not allowed", notSent: true }],
    ["a lost session never reached a tool", new SessionLost(), { kind: "unreachable", notSent: true }],
    ["an answer stream cut off", new AnswerCutOff("the stream ended"), { kind: "unreachable", message: "the stream ended", notSent: false }],
    ["an answer cut off for its size", new AnswerCutOff("too big", true), { kind: "too_large", message: "too big", notSent: false }],
    ["an undecryptable credential", new DecryptionError("bad tag"), { kind: "auth", notSent: true }],
    ["a response over its budget", new ResponseTooLarge(1024), { kind: "too_large", notSent: false }],
    ["a tool list over its bounds", new ToolListTooLong("more than 10 pages"), { kind: "too_large", message: "more than 10 pages", notSent: false }],
    ["a grant that needs a person", new NeedsReauthorization("re-authorize it"), { kind: "auth", message: "re-authorize it", notSent: false }],
    ["a 401 from the SDK's auth", new UnauthorizedError("no"), { kind: "auth", message: "the server refused the stored credential (401); re-authorize the connection" }],
    ["HTTP 401", httpError(401), { kind: "auth", httpStatus: 401, message: "the server refused the stored credential (401); re-authorize the connection" }],
    ["HTTP 403", httpError(403), { kind: "auth", httpStatus: 403 }],
    ["HTTP 404: not an MCP endpoint", httpError(404), { kind: "not_mcp", httpStatus: 404 }],
    ["HTTP 405", httpError(405), { kind: "not_mcp", httpStatus: 405 }],
    ["HTTP 415", httpError(415), { kind: "not_mcp", httpStatus: 415 }],
    ["HTTP 429: rate limited", httpError(429), { kind: "unreachable", httpStatus: 429, message: "the server is rate limiting requests (429); try again later" }],
    ["HTTP 500", httpError(500), { kind: "unreachable", httpStatus: 500, message: "the server answered HTTP 500", notSent: false }],
    ["a request timeout", new SdkError(SdkErrorCode.RequestTimeout, "deadline"), { kind: "timeout", message: "the server did not answer in time" }],
    ["a closed connection", new SdkError(SdkErrorCode.ConnectionClosed, "closed"), { kind: "unreachable", message: "the connection to the server closed before it answered" }],
    ["a JSON-RPC error", new ProtocolError(-32603 as never, "boom"), { kind: "protocol", message: "the server answered with an error: boom" }],
    ["a refused connect (code)", withCode("ECONNREFUSED", "x"), { kind: "unreachable", message: "the server refused the connection (is it running?)", notSent: true }],
    ["a refused connect (Bun's code)", withCode("ConnectionRefused", "x"), { kind: "unreachable", notSent: true }],
    ["a refused connect (text)", new Error("Unable to connect. Is the computer able to access the url?"), { kind: "unreachable", notSent: true }],
    ["an unknown host", withCode("ENOTFOUND", "x"), { kind: "unreachable", message: "the server's host name could not be resolved", notSent: true }],
    ["not JSON", new SyntaxError("Unexpected token < in JSON"), { kind: "not_mcp", notSent: false }],
    ["an abort", new Error("The operation was aborted"), { kind: "timeout", message: "the request was cancelled before the server answered" }],
    ["anything else", new Error("weird"), { kind: "unreachable", message: "the connection failed: weird", notSent: false }],
    ["not even an Error", "plain string", { kind: "unreachable", message: "the connection failed: plain string" }],
    ["a known cause under the SDK's wrapper", new Error("wrapped", { cause: new UpstreamUrlRefused("private address") }), { kind: "refused_url", message: "private address", notSent: true }],
  ];
  test.each(cases)("%s", (_, error, expected) => {
    expect(describeUpstreamError(error)).toMatchObject(expected);
  });

  test("a missing scope is named, without control characters, and the connection stays usable", () => {
    const failure = describeUpstreamError(new InsufficientScopeError({ requiredScope: "repo\u0007 admin" }));
    expect(failure).toMatchObject({ kind: "protocol", notSent: false });
    expect(failure.message).toContain('(scope "repo admin")');
  });

  test("the upstream's own text is redacted whole, then clipped to one line of 200 characters", () => {
    const redactor = new Redactor();
    redactor.add("sk-live-51f0c2d9a8b7e6");
    const failure = describeUpstreamError(new ProtocolError(-32603 as never, `bad key sk-live-51f0c2d9a8b7e6\n${"x".repeat(400)}`), redactor);
    expect(failure.message).not.toContain("sk-live");
    expect(failure.message).not.toContain("\n");
    expect(failure.message.length).toBeLessThan(300);
  });
});

describe("what may be tried again", () => {
  const cases: [string, UpstreamFailure, { discovery: boolean; call: boolean }][] = [
    ["unreachable, never sent", { kind: "unreachable", message: "", notSent: true }, { discovery: true, call: true }],
    ["unreachable, maybe sent", { kind: "unreachable", message: "", notSent: false }, { discovery: true, call: false }],
    ["rate limited", { kind: "unreachable", message: "", notSent: false, httpStatus: 429 }, { discovery: false, call: false }],
    ["a refused URL", { kind: "refused_url", message: "", notSent: true }, { discovery: false, call: false }],
    ["a timeout", { kind: "timeout", message: "", notSent: false }, { discovery: false, call: false }],
    ["auth", { kind: "auth", message: "", notSent: true }, { discovery: false, call: false }],
  ];
  test.each(cases)("%s", (_, failure, expected) => {
    expect({ discovery: isRetryableDiscovery(failure), call: isRetryableCall(failure) }).toEqual(expected);
  });
});
