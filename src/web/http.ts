/** The one error type handlers throw for HTTP outcomes; mapped to a page, fragment or JSON in one place. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const SECURITY_HEADERS: Record<string, string> = {
  // Only the gateway's own scripts and styles; no inline script, so an escaped-too-little string
  // from an upstream still cannot run.
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

/** Our components render synchronously; a Promise here would be a bug in a view. */
export function renderHtml(element: JSX.Element): string {
  if (typeof element !== "string") throw new Error("an async component was rendered where a sync one was expected");
  return element;
}

export function htmlResponse(element: JSX.Element, status = 200, headers: Record<string, string> = {}): Response {
  const body = renderHtml(element);
  return new Response(body.startsWith("<html") ? "<!doctype html>" + body : body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", vary: "HX-Request", ...headers },
  });
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** A redirect that works for plain forms (303) and for htmx (HX-Redirect, since htmx follows 3xx itself). */
export function redirect(request: Request, location: string): Response {
  if (isHtmx(request)) return new Response(null, { status: 204, headers: { "hx-redirect": location } });
  return new Response(null, { status: 303, headers: { location } });
}

export function isHtmx(request: Request): boolean {
  return request.headers.get("hx-request") === "true";
}

function checkFormType(request: Request): void {
  const type = request.headers.get("content-type") ?? "";
  if (!type.includes("application/x-www-form-urlencoded") && !type.includes("multipart/form-data")) {
    throw new HttpError(415, "Send the form as application/x-www-form-urlencoded.");
  }
}

export async function readForm(request: Request): Promise<Record<string, string>> {
  checkFormType(request);
  const form = await request.formData();
  const values: Record<string, string> = {};
  for (const [key, value] of form.entries()) if (typeof value === "string") values[key] = value;
  return values;
}

/** A multi-valued form field (checkbox groups). */
export async function readFormAll(request: Request): Promise<FormData> {
  checkFormType(request);
  return request.formData();
}

/** A body that does not have the shape a route asks for: 422 with a message per field (errors.tsx). */
export class InvalidRequest extends HttpError {
  constructor(readonly fields: Record<string, string>) {
    super(422, Object.values(fields).join(" "));
    this.name = "InvalidRequest";
  }
}

/** The one 422 the JSON API answers, whether the shape or a service found the fields wrong. */
export function invalidRequest(fields: Record<string, string>): Response {
  return jsonResponse({ error: "invalid_request", message: Object.values(fields).join(" "), fields }, 422);
}
