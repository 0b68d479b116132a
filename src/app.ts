import { Elysia, type AnyElysia } from "elysia";
import type { Server } from "bun";
import type { AppDeps } from "./deps.ts";
import { authRoutes } from "./accounts/routes.tsx";
import { keysRoutes } from "./accounts/keys-routes.tsx";
import { profilesRoutes } from "./profiles/routes.tsx";
import { accountRoutes } from "./accounts/account-routes.tsx";
import { settingsRoutes } from "./accounts/settings-routes.tsx";
import { memberRoutes } from "./accounts/member-routes.tsx";
import { linkRoutes } from "./accounts/link-routes.tsx";
import { ssoRoutes } from "./sso/routes.tsx";
import { scimRoutes } from "./scim/routes.ts";
import { connectionPages } from "./connections/pages.tsx";
import { connectionDetailPages } from "./connections/connection-pages.tsx";
import { reviewPages } from "./connections/review-routes.tsx";
import { memberAccountRoutes } from "./connections/member-routes.tsx";
import { toolTestRoutes } from "./connections/tool-test-routes.tsx";
import { toolOverrideRoutes } from "./connections/override-routes.tsx";
import { accessLogRoutes } from "./accesslog/routes.tsx";
import { accessLogApi } from "./accesslog/api.ts";
import { assetRoutes } from "./web/assets.ts";
import { handleError } from "./web/errors.tsx";
import { SECURITY_HEADERS } from "./web/http.ts";
import { checkSameOrigin } from "./web/csrf.ts";
import { isServedHost, misdirected } from "./web/host-check.ts";
import { isMcpPath } from "./gateway/mcp-endpoint.ts";
import { withAuditOrigin } from "./audit/context.ts";
import { peerOf } from "./web/rate-limit.ts";
import { auditRoutes } from "./audit/routes.ts";
import { oauthRoutes } from "./upstream/oauth/routes.tsx";
import { catalogRoutes } from "./catalog/routes.tsx";
import { gatewayRoutes } from "./gateway/routes.ts";
import { connectionRoutes } from "./connections/routes.ts";
import { CLIENT_FACING_PATHS, oauthServerRoutes } from "./oauth-server/routes.tsx";
import { observeRoutes } from "./observe/routes.ts";
import { METRICS_PATH } from "./observe/metrics-access.ts";

export type App = {
  fetch(request: Request, server?: Server<unknown>): Promise<Response>;
  elysia: AnyElysia;
};

/**
 * Load balancers probe these with a Host of their own (often an address); they tell nothing but
 * "alive" and "database reachable", so they answer under any name.
 */
const HEALTH_PATHS = new Set(["/healthz", "/readyz"]);

/**
 * Mounts every feature, each once, here. Who may call a route is said where the route is, through
 * the plugin each feature uses (web/plugin.ts). Tests build the same app.
 */
export function createApp(deps: AppDeps): App {
  const elysia = new Elysia()
    .onRequest(({ request }) => {
      // Dashboard mutations must come from our own origin. The MCP endpoint and the JSON API are
      // authenticated by bearer keys, never by cookies, and check Origin themselves; so are the
      // OAuth endpoints MCP clients call (token, registration), which no cookie authorizes.
      const path = new URL(request.url).pathname;
      if (!path.startsWith("/api/") && !CLIENT_FACING_PATHS.includes(path)) checkSameOrigin(request, deps.config.baseUrl);
    })
    .onError(({ request, error, code }) => handleError(deps, request, error, code))
    .use(assetRoutes())
    .get("/healthz", () => Response.json({ ok: true }))
    .use(observeRoutes(deps))
    .use(gatewayRoutes(deps))
    .use(connectionRoutes(deps))
    .use(oauthRoutes(deps))
    .use(oauthServerRoutes(deps))
    .use(catalogRoutes(deps))
    .use(authRoutes(deps))
    .use(keysRoutes(deps))
    .use(profilesRoutes(deps))
    .use(settingsRoutes(deps))
    .use(memberRoutes(deps))
    .use(linkRoutes(deps))
    .use(accountRoutes(deps))
    .use(ssoRoutes(deps))
    .use(scimRoutes(deps))
    .use(connectionPages(deps))
    .use(memberAccountRoutes(deps))
    .use(connectionDetailPages(deps))
    .use(reviewPages(deps))
    .use(toolTestRoutes(deps))
    .use(toolOverrideRoutes(deps))
    .use(accessLogRoutes(deps))
    .use(accessLogApi(deps))
    .use(auditRoutes(deps));

  // Prometheus scrapes by address: with a metrics token, /metrics answers under any name too (the
  // token is what guards it). Without one it is for loopback peers, and a rebound name is refused.
  const anyHost = (path: string): boolean => HEALTH_PATHS.has(path) || (path === METRICS_PATH && deps.config.observe.metricsToken !== null);

  async function serveMcp(request: Request, path: string): Promise<Response> {
    try {
      return await deps.mcp.handle(request, path);
    } catch (error) {
      return handleError(deps, request, error, "UNKNOWN");
    }
  }

  const SECURITY_ENTRIES = Object.entries(SECURITY_HEADERS);

  return {
    elysia,
    async fetch(request: Request): Promise<Response> {
      const start = performance.now();
      const requestId = request.headers.get("x-request-id")?.slice(0, 64).replace(/[^\w.-]/g, "") || crypto.randomUUID();
      const path = new URL(request.url).pathname;
      // The MCP endpoint is the hot path: straight to its handler, without the router and its hooks
      // (none of which apply to it: it checks Origin and the key itself).
      // Before anything else, the MCP endpoint included: a rebound name reaches nothing (host-check.ts).
      // Who acts and from where, for the audit trail (audit/context.ts): the guards add who.
      let response = !anyHost(path) && !isServedHost(request.headers.get("host"), deps.config)
        ? misdirected()
        : await withAuditOrigin(request, peerOf(request), () => (isMcpPath(path) ? serveMcp(request, path) : elysia.handle(request)));
      // Headers of a Response built elsewhere (the MCP SDK, a static file) may be immutable.
      if (Object.isFrozen(response.headers)) response = new Response(response.body, response);
      try {
        for (const [name, value] of SECURITY_ENTRIES) if (!response.headers.has(name)) response.headers.set(name, value);
        response.headers.set("x-request-id", requestId);
      } catch {
        response = new Response(response.body, response);
      }
      deps.log.info("request", {
        requestId,
        method: request.method,
        path,
        status: response.status,
        ms: Math.round(performance.now() - start),
      });
      return response;
    },
  };
}
