import { Elysia, type AnyElysia } from "elysia";
import { z } from "zod";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import { parseBody } from "../web/body.ts";
import { jsonResponse } from "../web/http.ts";
import { listAccessLog, OUTCOMES, userScope } from "./query.ts";

const AccessLogQuery = z.object({
  connection: z.string().optional(),
  tool: z.string().optional(),
  // An empty outcome filters nothing, as in the dashboard's form.
  outcome: z.union([z.literal(""), z.enum(OUTCOMES)], { error: `outcome must be one of ${OUTCOMES.join(", ")}` }).optional(),
  user: z.string().optional(),
  before: z.string().optional(),
  limit: z.string().optional(),
});

/** The first value of each named query parameter, as URLSearchParams.get reads it. */
function queryValues(url: URL, names: string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((name) => [name, url.searchParams.get(name) ?? undefined]));
}

/** GET /api/v1/access-log: the calls a key may read, newest first, a page at a time. */
export function accessLogApi(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "access-log-api" }).use(withDeps(deps)).get(
    "/api/v1/access-log",
    async ({ request, principal }) => {
      const query = parseBody(AccessLogQuery, queryValues(new URL(request.url), Object.keys(AccessLogQuery.shape)));
      const page = await listAccessLog(deps.database, principal.workspaceId, {
        connection: query.connection,
        tool: query.tool,
        outcome: query.outcome || undefined,
        // A member's key reads their own calls only, as the dashboard shows them.
        userId: userScope(principal, query.user),
        before: query.before,
        limit: query.limit !== undefined ? Number(query.limit) || 50 : undefined,
      });
      return jsonResponse(page);
    },
    { apiKey: true },
  );
}
