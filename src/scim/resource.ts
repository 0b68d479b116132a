/**
 * SCIM 2.0 (RFC 7643/7644) User resources as plain data: reading a POST/PUT body, applying a
 * PATCH the way Okta and Entra send them, and the one filter form directories use.
 */

export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
export const LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/** What the gateway keeps of a SCIM user. `email` becomes the account's email. */
export type ScimUserFields = {
  userName: string;
  email: string;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  active: boolean;
};

export type ScimFault = { status: number; scimType?: string; detail: string };
export type Parsed<T> = { ok: true; value: T } | { ok: false; fault: ScimFault };
export type ScimFilter = { attribute: "userName" | "externalId" | "email" | "id"; value: string };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const USER_URN_PREFIX = `${USER_SCHEMA.toLowerCase()}:`;

function fault(status: number, detail: string, scimType?: string): { ok: false; fault: ScimFault } {
  return { ok: false, fault: { status, detail, ...(scimType ? { scimType } : {}) } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed.slice(0, 512);
}

/** Entra sends booleans as "True"/"False" strings. */
function bool(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  return null;
}

/** The primary email of a SCIM `emails` array, else the work one, else the first. */
function pickEmail(value: unknown): string | null {
  if (!Array.isArray(value)) return null;
  const emails = value.filter(isObject);
  const chosen = emails.find((e) => bool(e.primary) === true) ?? emails.find((e) => e.type === "work") ?? emails[0];
  return chosen ? text(chosen.value) : null;
}

function finish(fields: Omit<ScimUserFields, "email"> & { email: string | null }): Parsed<ScimUserFields> {
  const email = (fields.email ?? (EMAIL.test(fields.userName) ? fields.userName : "")).toLowerCase();
  if (!EMAIL.test(email)) return fault(400, "userName or emails must hold the user's email address.", "invalidValue");
  return { ok: true, value: { ...fields, email } };
}

/** A full User from a POST or PUT body. */
export function parseUserResource(body: unknown): Parsed<ScimUserFields> {
  if (!isObject(body)) return fault(400, "The body must be a SCIM User object.", "invalidSyntax");
  const userName = text(body.userName);
  if (!userName) return fault(400, "userName is required.", "invalidValue");
  const name = isObject(body.name) ? body.name : {};
  const active = body.active === undefined ? true : bool(body.active);
  if (active === null) return fault(400, "active must be true or false.", "invalidValue");
  return finish({
    userName,
    email: pickEmail(body.emails),
    externalId: text(body.externalId),
    givenName: text(name.givenName),
    familyName: text(name.familyName),
    displayName: text(body.displayName) ?? text(name.formatted),
    active,
  });
}

/** Applies a PatchOp to the current fields. Attributes the gateway does not keep are ignored. */
export function applyPatch(current: ScimUserFields, body: unknown): Parsed<ScimUserFields> {
  if (!isObject(body) || !Array.isArray(body.Operations)) return fault(400, "A PATCH body needs an Operations array.", "invalidSyntax");
  const next: Omit<ScimUserFields, "email"> & { email: string | null } = { ...current };
  for (const operation of body.Operations) {
    if (!isObject(operation)) return fault(400, "Each operation must be an object.", "invalidSyntax");
    const op = String(operation.op ?? "").toLowerCase();
    if (op !== "add" && op !== "replace" && op !== "remove") return fault(400, `Unknown op “${String(operation.op)}”.`, "invalidSyntax");
    const path = typeof operation.path === "string" ? operation.path.trim() : "";
    if (path === "") {
      if (op === "remove") return fault(400, "A remove operation needs a path.", "noTarget");
      if (!isObject(operation.value)) return fault(400, "Without a path, value must be an object of attributes.", "invalidValue");
      for (const [key, value] of Object.entries(operation.value)) {
        const error = setAttribute(next, key, value);
        if (error) return fault(400, error, "invalidValue");
      }
      continue;
    }
    const error = setAttribute(next, path, op === "remove" ? null : operation.value);
    if (error) return fault(400, error, "invalidValue");
  }
  return finish(next);
}

/** One attribute by SCIM path; returns an error sentence or null. */
function setAttribute(fields: Omit<ScimUserFields, "email"> & { email: string | null }, rawPath: string, value: unknown): string | null {
  let path = rawPath.toLowerCase();
  if (path.startsWith(USER_URN_PREFIX)) path = path.slice(USER_URN_PREFIX.length);
  switch (path) {
    case "active": {
      const active = bool(value);
      if (active === null) return "active must be true or false.";
      fields.active = active;
      return null;
    }
    case "username": {
      const userName = text(value);
      if (!userName) return "userName cannot be empty.";
      fields.userName = userName;
      return null;
    }
    case "externalid":
      fields.externalId = text(value);
      return null;
    case "displayname":
    case "name.formatted":
      fields.displayName = text(value);
      return null;
    case "name.givenname":
      fields.givenName = text(value);
      return null;
    case "name.familyname":
      fields.familyName = text(value);
      return null;
    case "name": {
      const name = isObject(value) ? value : {};
      fields.givenName = text(name.givenName);
      fields.familyName = text(name.familyName);
      if (name.formatted !== undefined) fields.displayName = text(name.formatted);
      return null;
    }
    case "emails":
      if (value === null) return null;
      fields.email = pickEmail(value) ?? fields.email;
      return null;
    default:
      // emails[type eq "work"].value, emails[primary eq true].value, emails.value
      if (/^emails(\[[^\]]*\])?\.value$/.test(path)) {
        if (value !== null) fields.email = text(value) ?? fields.email;
        return null;
      }
      return null;
  }
}

/** `userName eq "…"` (and externalId, emails.value, id): what Okta and Entra send to match. */
export function parseFilter(raw: string | null): Parsed<ScimFilter | null> {
  if (raw === null || raw.trim() === "") return { ok: true, value: null };
  const match = raw.trim().match(/^([\w.:]+)\s+eq\s+"((?:[^"\\]|\\.)*)"$/i);
  if (!match) return fault(400, 'Only filters of the form attribute eq "value" are supported.', "invalidFilter");
  let attribute = match[1]!.toLowerCase();
  if (attribute.startsWith(USER_URN_PREFIX)) attribute = attribute.slice(USER_URN_PREFIX.length);
  const value = match[2]!.replace(/\\(.)/g, "$1");
  const known: Record<string, ScimFilter["attribute"]> = { username: "userName", externalid: "externalId", "emails.value": "email", emails: "email", id: "id" };
  const mapped = known[attribute];
  if (!mapped) return fault(400, `Filtering on ${match[1]} is not supported; use userName, externalId or emails.value.`, "invalidFilter");
  return { ok: true, value: { attribute: mapped, value } };
}
