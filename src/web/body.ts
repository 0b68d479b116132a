import type { z } from "zod";
import { HttpError, InvalidRequest } from "./http.ts";

/*
 * Bodies are read by the handler, after the guard (plugin.ts), not by Elysia's parse step: a
 * stranger's request ends at 401 whatever its body, as it always has. A schema gives the body its
 * shape; rules on values (a name's length, a URL's policy) stay in the services, shared with the
 * dashboard's forms.
 */

/** A JSON object, sent as JSON: else 415 or 400 through the error handler. */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  if (!(request.headers.get("content-type") ?? "").includes("application/json")) throw new HttpError(415, "Send a JSON body with Content-Type: application/json.");
  const body = await request.json().catch(() => null);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "The body must be a JSON object.");
  return body as Record<string, unknown>;
}

/** The body in the schema's shape, or InvalidRequest: 422 with the first message for each field. */
export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? "body");
    fields[field] ??= issue.message;
  }
  throw new InvalidRequest(fields);
}
