import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { readBearer } from "../web/guard.ts";
import { applyPatch, ERROR_SCHEMA, LIST_SCHEMA, parseFilter, parseUserResource, type ScimFault } from "./resource.ts";
import { validateScimToken } from "./tokens.ts";
import { createScimUser, deleteScimUser, getScimUser, listScimUsers, replaceScimUser, toFields, toScimResource, type ScimUser } from "./users.ts";

/** SCIM 2.0 for the IdP: /scim/v2/Users, bearer token from workspace settings, SCIM JSON only. */

const MAX_PAGE = 200;

function scimJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/scim+json", "cache-control": "no-store", ...headers } });
}

function scimError(fault: ScimFault, headers: Record<string, string> = {}): Response {
  const body = { schemas: [ERROR_SCHEMA], status: String(fault.status), ...(fault.scimType ? { scimType: fault.scimType } : {}), detail: fault.detail };
  return scimJson(body, fault.status, headers);
}

const UNAUTHORIZED = (): Response =>
  scimError({ status: 401, detail: "Send a SCIM token from the gateway's workspace settings as Authorization: Bearer mgw_scim_…" }, { "www-authenticate": 'Bearer realm="mcp-gateway-scim"' });
const NOT_FOUND = (): Response => scimError({ status: 404, detail: "No such user in this workspace." });

async function readJson(request: Request, maxBytes: number): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  const text = await request.text();
  if (text.length > maxBytes) return { ok: false, response: scimError({ status: 413, detail: "The request body is too large." }) };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    return { ok: false, response: scimError({ status: 400, scimType: "invalidSyntax", detail: "The body is not JSON." }) };
  }
}

function pageParam(value: string | null, fallback: number, min: number, max: number): number {
  const n = value === null ? fallback : Number.parseInt(value, 10);
  return Number.isFinite(n) ? Math.min(Math.max(n, min), max) : fallback;
}

export function scimRoutes(deps: AppDeps): AnyElysia {
  const { database, config } = deps;
  const authenticate = (request: Request): Promise<string | null> => {
    const token = readBearer(request);
    return token ? validateScimToken(database, token) : Promise.resolve(null);
  };
  const created = (user: ScimUser): Response => {
    const resource = toScimResource(user, config.baseUrl);
    return scimJson(resource, 201, { location: (resource.meta as { location: string }).location });
  };

  // PUT and PATCH both end here: the new fields replace the user's, and the answer is the user.
  async function replaceAndAnswer(workspaceId: string, user: ScimUser, fields: ReturnType<typeof parseUserResource>): Promise<Response> {
    if (!fields.ok) return scimError(fields.fault);
    const result = await replaceScimUser(database, workspaceId, user, fields.value);
    if (!result.ok) return scimError(result.fault);
    logActive(deps, user, result.value);
    return scimJson(toScimResource(result.value, config.baseUrl));
  }

  return new Elysia({ name: "scim" })
    .get("/scim/v2/ServiceProviderConfig", async ({ request }) => {
      if (!(await authenticate(request))) return UNAUTHORIZED();
      return scimJson({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        patch: { supported: true },
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
        filter: { supported: true, maxResults: MAX_PAGE },
        changePassword: { supported: false },
        sort: { supported: false },
        etag: { supported: false },
        authenticationSchemes: [{ type: "oauthbearertoken", name: "Bearer token", description: "A SCIM token made in the gateway's workspace settings.", primary: true }],
        meta: { resourceType: "ServiceProviderConfig", location: `${config.baseUrl}/scim/v2/ServiceProviderConfig` },
      });
    })
    .get("/scim/v2/Users", async ({ request }) => {
      const workspaceId = await authenticate(request);
      if (!workspaceId) return UNAUTHORIZED();
      const query = new URL(request.url).searchParams;
      const filter = parseFilter(query.get("filter"));
      if (!filter.ok) return scimError(filter.fault);
      const startIndex = pageParam(query.get("startIndex"), 1, 1, Number.MAX_SAFE_INTEGER);
      const count = pageParam(query.get("count"), 100, 0, MAX_PAGE);
      const page = await listScimUsers(database, workspaceId, filter.value, { startIndex, count });
      return scimJson({
        schemas: [LIST_SCHEMA],
        totalResults: page.total,
        startIndex,
        itemsPerPage: page.users.length,
        Resources: page.users.map((u) => toScimResource(u, config.baseUrl)),
      });
    })
    .post("/scim/v2/Users", async ({ request }) => {
      const workspaceId = await authenticate(request);
      if (!workspaceId) return UNAUTHORIZED();
      const read = await readJson(request, config.maxBodyBytes);
      if (!read.ok) return read.response;
      const fields = parseUserResource(read.body);
      if (!fields.ok) return scimError(fields.fault);
      const result = await createScimUser(database, workspaceId, fields.value);
      if (!result.ok) return scimError(result.fault);
      deps.log.info("scim user created", { workspaceId, userId: result.value.userId });
      return created(result.value);
    })
    .get("/scim/v2/Users/:id", async ({ request, params }) => {
      const workspaceId = await authenticate(request);
      if (!workspaceId) return UNAUTHORIZED();
      const user = await getScimUser(database, workspaceId, params.id);
      return user ? scimJson(toScimResource(user, config.baseUrl)) : NOT_FOUND();
    })
    .put("/scim/v2/Users/:id", async ({ request, params }) => {
      const workspaceId = await authenticate(request);
      if (!workspaceId) return UNAUTHORIZED();
      const user = await getScimUser(database, workspaceId, params.id);
      if (!user) return NOT_FOUND();
      const read = await readJson(request, config.maxBodyBytes);
      if (!read.ok) return read.response;
      const fields = parseUserResource(read.body);
      return replaceAndAnswer(workspaceId, user, fields);
    })
    .patch("/scim/v2/Users/:id", async ({ request, params }) => {
      const workspaceId = await authenticate(request);
      if (!workspaceId) return UNAUTHORIZED();
      const user = await getScimUser(database, workspaceId, params.id);
      if (!user) return NOT_FOUND();
      const read = await readJson(request, config.maxBodyBytes);
      if (!read.ok) return read.response;
      const fields = applyPatch(toFields(user), read.body);
      return replaceAndAnswer(workspaceId, user, fields);
    })
    .delete("/scim/v2/Users/:id", async ({ request, params }) => {
      const workspaceId = await authenticate(request);
      if (!workspaceId) return UNAUTHORIZED();
      const user = await getScimUser(database, workspaceId, params.id);
      if (!user) return NOT_FOUND();
      const result = await deleteScimUser(database, workspaceId, user);
      if (!result.ok) return scimError(result.fault);
      deps.log.info("scim user deleted: access ended", { workspaceId, userId: user.userId });
      return new Response(null, { status: 204 });
    })
    .all("/scim/v2/*", () => scimError({ status: 404, detail: "This SCIM endpoint serves /scim/v2/Users and /scim/v2/ServiceProviderConfig." }));
}

function logActive(deps: AppDeps, before: ScimUser, after: ScimUser): void {
  if (before.disabledAt === null && after.disabledAt !== null) deps.log.info("scim user deactivated: access ended", { userId: after.userId });
  if (before.disabledAt !== null && after.disabledAt === null) deps.log.info("scim user reactivated", { userId: after.userId });
}
