import type { AppDeps } from "../deps.ts";
import { ErrorPage } from "../../views/auth.tsx";
import { HttpError, htmlResponse, invalidRequest, InvalidRequest, isHtmx, jsonResponse } from "./http.ts";

/** Every error surfaces here once: JSON for the API, a page or a fragment for the dashboard. */
export function handleError(deps: AppDeps, request: Request, error: unknown, code: unknown): Response {
  const url = new URL(request.url);
  const api = url.pathname.startsWith("/api/") || url.pathname.startsWith("/scim/");
  let status = 500;
  let message = "Something went wrong on our side. The error was logged.";
  let headers: Record<string, string> = {};
  if (error instanceof HttpError) {
    status = error.status;
    message = error.message;
    headers = error.headers;
  } else if (code === "NOT_FOUND") {
    status = 404;
    message = "There is nothing at this address.";
  } else if (code === "PARSE" || code === "VALIDATION") {
    status = 400;
    message = "The request could not be read. Check its body and content type.";
  } else {
    deps.log.error("unhandled error", { path: url.pathname, error: error instanceof Error ? error.stack ?? error.message : String(error) });
  }

  if (api && error instanceof InvalidRequest) return invalidRequest(error.fields);
  if (api) return jsonResponse({ error: errorCode(status), message }, status, headers);
  if (status === 401) {
    if (isHtmx(request)) return new Response(null, { status: 204, headers: { "hx-redirect": "/sign-in" } });
    return new Response(null, { status: 303, headers: { location: "/sign-in" } });
  }
  if (isHtmx(request)) {
    return htmlResponse(<p class="field-error" role="alert" safe>{message}</p>, status, headers);
  }
  return htmlResponse(<ErrorPage status={status} message={message} signedIn={false} />, status, headers);
}

function errorCode(status: number): string {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 409: return "conflict";
    case 413: return "too_large";
    case 415: return "unsupported_media_type";
    case 422: return "invalid_request";
    case 429: return "too_many_requests";
    default: return status >= 500 ? "internal_error" : "error";
  }
}
