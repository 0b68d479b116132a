import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { peerOf } from "../web/rate-limit.ts";
import { checkReadiness } from "./readiness.ts";
import { checkMetricsAccess, METRICS_PATH } from "./metrics-access.ts";

// A scrape or a probe must not wait for the database longer than its own timeout (often 10 s).
const READINESS_WAIT_MS = 2000;

/** `/readyz` (which dependency fails, in JSON) and, unless METRICS=off, `/metrics` for Prometheus. */
export function observeRoutes(deps: AppDeps): AnyElysia {
  const { metrics } = deps.observe;
  const app = new Elysia({ name: "observe" }).get("/readyz", async () => {
    const readiness = await checkReadiness(deps.database, Math.min(READINESS_WAIT_MS, deps.config.databaseWaitMs || READINESS_WAIT_MS));
    return Response.json(readiness, { status: readiness.ok ? 200 : 503, headers: { "cache-control": "no-store" } });
  });
  if (!metrics) return app;
  return app.get(METRICS_PATH, async ({ request }) => {
    const access = checkMetricsAccess({ token: deps.config.observe.metricsToken, authorization: request.headers.get("authorization"), peer: peerOf(request) });
    if (!access.ok) {
      const challenge: Record<string, string> = access.status === 401 ? { "www-authenticate": 'Bearer realm="metrics"' } : {};
      return Response.json({ error: access.status === 401 ? "unauthorized" : "forbidden", message: access.message }, { status: access.status, headers: challenge });
    }
    return new Response(await metrics.scrape(), { headers: { "content-type": metrics.registry.contentType, "cache-control": "no-store" } });
  });
}
