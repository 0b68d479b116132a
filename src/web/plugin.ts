import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { isAdmin, type Principal } from "../accounts/principal.ts";
import { getConnection } from "../connections/queries.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import { HttpError } from "./http.ts";
import { findApiKeyPrincipal, findSessionPrincipal, readBearer } from "./guard.ts";
import { actorOf, noteAuditActor } from "../audit/context.ts";

type GuardDeps = Pick<AppDeps, "config" | "database" | "keyring" | "log">;

/** Dashboard pages: a 401 here becomes a redirect to sign-in in the error handler. */
async function requireMember(deps: GuardDeps, request: Request): Promise<Principal> {
  const principal = await findSessionPrincipal(deps, request);
  if (!principal) throw new HttpError(401, "Sign in to continue.");
  noteAuditActor(actorOf(principal));
  return principal;
}

async function requireAdmin(deps: GuardDeps, request: Request): Promise<Principal> {
  const principal = await requireMember(deps, request);
  if (!isAdmin(principal)) throw new HttpError(403, "Only workspace admins can do this.");
  return principal;
}

/** JSON API: a gateway API key in `Authorization: Bearer`. */
async function requireApiKey(deps: GuardDeps, request: Request): Promise<Principal> {
  const key = readBearer(request);
  const principal = key ? await findApiKeyPrincipal(deps, key) : null;
  if (!principal) {
    throw new HttpError(401, key ? "The API key is unknown, revoked or expired." : "Send a gateway API key as Authorization: Bearer mgw_…", {
      "www-authenticate": 'Bearer realm="mcp-gateway"',
    });
  }
  // A profile narrows what a key may do; the JSON API (new keys, connections, tool picks) would widen it again.
  if (principal.profileId !== undefined) throw new HttpError(403, "This key is limited to a profile, so it serves the MCP endpoint only. Use a key that is not limited to a profile for the HTTP API.");
  noteAuditActor(actorOf(principal));
  return principal;
}

async function requireApiAdmin(deps: GuardDeps, request: Request): Promise<Principal> {
  const principal = await requireApiKey(deps, request);
  if (!isAdmin(principal)) throw new HttpError(403, "This needs an API key of a workspace admin.");
  return principal;
}

/** By (workspace, id): another workspace's connection is a 404 like a missing one. */
async function requireOwnConnection(deps: AppDeps, request: Request, principal: Principal | undefined, id: string | undefined): Promise<ConnectionMeta> {
  // A route that asks for { connection: true } names a guard before it; without one this is a bug.
  if (!principal) throw new Error("the connection macro needs a guard (member, admin, apiKey or apiAdmin) before it");
  const connection = id === undefined ? null : await getConnection(deps, principal.workspaceId, id);
  if (connection) return connection;
  const api = new URL(request.url).pathname.startsWith("/api/");
  throw new HttpError(404, api ? "No such connection in this workspace." : "There is no such connection in this workspace.");
}

/**
 * The edge every route stands on: who is asking, checked against these deps. A route names its guard
 * (`{ member: true }`, `{ admin: true }` for the dashboard; `{ apiKey: true }`, `{ apiAdmin: true }`
 * for the JSON API) and gets `principal`, or the request ends at 401/403 through the one error
 * handler. `{ connection: true }` after a guard adds the caller's own connection named by `:id`.
 *
 * The guards run before the body is read (handlers read it themselves, see body.ts), so a stranger
 * learns nothing from how a body is judged.
 *
 * Its return type is Elysia's, inferred from the macros (spelled out, it would be longer than they
 * are). Unnamed: Elysia registers a named plugin once, and each feature needs the macros itself.
 */
export function withDeps(deps: AppDeps) {
  return new Elysia().macro({
    member: { resolve: async ({ request }) => ({ principal: await requireMember(deps, request) }) },
    admin: { resolve: async ({ request }) => ({ principal: await requireAdmin(deps, request) }) },
    apiKey: { resolve: async ({ request }) => ({ principal: await requireApiKey(deps, request) }) },
    apiAdmin: { resolve: async ({ request }) => ({ principal: await requireApiAdmin(deps, request) }) },
    connection: {
      // Property by property: a hook that spreads the context (`...rest`) makes Elysia parse the
      // body first, and the handlers read it themselves, after the guard.
      resolve: async (context) => {
        const principal = (context as { principal?: Principal }).principal;
        const id = (context.params as { id?: string }).id;
        return { connection: await requireOwnConnection(deps, context.request, principal, id) };
      },
    },
  });
}
