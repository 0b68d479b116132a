import type { Logger } from "../log.ts";

/**
 * Answers the server gives below the app: to a balancer's bare probe, and when something threw
 * where no handler caught it. Neither ever carries source, paths or a stack: those go to the log,
 * under the request id the answer names.
 */

/**
 * `OPTIONS /` is HAProxy's default health check (`option httpchk` with no arguments), sent without
 * a Host header. It asks what the server allows, which tells nothing: it is answered under any name.
 */
export function answerServerOptions(request: Request, path: string): Response | null {
  if (request.method !== "OPTIONS" || path !== "/" || request.headers.has("access-control-request-method")) return null;
  return new Response(null, { status: 204, headers: { allow: "GET, HEAD, POST, OPTIONS" } });
}

/** A plain 500: a sentence and the request id to look for in the log. */
export function internalError(log: Logger, error: unknown, requestId: string = crypto.randomUUID()): Response {
  log.error("unhandled error", { requestId, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  return new Response(`Something went wrong on our side. The error was logged under request id ${requestId}.\n`, {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8", "x-request-id": requestId, "cache-control": "no-store" },
  });
}
