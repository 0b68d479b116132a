import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { MCP_SCOPE } from "../oauth-server/metadata.ts";
import { MCP_PATH, RESOURCE_METADATA_PATH } from "./mcp-endpoint.ts";

/** The RFC 9728 metadata of the MCP endpoint (createApp serves the endpoint itself, ahead of the router). */
export function gatewayRoutes(deps: AppDeps): AnyElysia {
  const metadata = (): Response =>
    Response.json(
      {
        resource: `${deps.config.baseUrl}${MCP_PATH}`,
        // The gateway is its own authorization server (src/auth/oauth-server); API keys work too.
        authorization_servers: [deps.config.baseUrl],
        scopes_supported: [MCP_SCOPE],
        bearer_methods_supported: ["header"],
        resource_name: "MCP Gateway",
        resource_documentation: `${deps.config.baseUrl}/`,
      },
      { headers: { "access-control-allow-origin": "*", "cache-control": "public, max-age=300" } },
    );
  return new Elysia({ name: "gateway" }).get(RESOURCE_METADATA_PATH, metadata).get("/.well-known/oauth-protected-resource", metadata);
}
