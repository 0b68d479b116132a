import type { OAuthClientMetadata } from "@modelcontextprotocol/client";
import type { Config } from "../../config.ts";

/**
 * How the gateway presents itself to an upstream's authorization server, in the order the MCP
 * authorization spec gives: a client the operator registered for that connection, else a Client ID
 * Metadata Document served at our own URL, else Dynamic Client Registration. The SDK's `auth()`
 * walks that order; this file only says what our redirect URI and metadata are.
 */

export const CLIENT_METADATA_PATH = "/oauth/client-metadata.json";
export const CALLBACK_PATH = "/oauth/callback";

export function redirectUri(config: Pick<Config, "baseUrl">): string {
  return `${config.baseUrl}${CALLBACK_PATH}`;
}

/**
 * The URL of our Client ID Metadata Document, or null. An authorization server fetches it to learn
 * who we are, so it must be https (the spec requires it, and the SDK refuses anything else): with an
 * http BASE_URL the gateway falls back to Dynamic Client Registration.
 */
export function clientMetadataUrl(config: Pick<Config, "baseUrl">): string | null {
  return config.baseUrl.startsWith("https://") ? `${config.baseUrl}${CLIENT_METADATA_PATH}` : null;
}

/** What we register (DCR) or publish (CIMD). A public client: PKCE, no secret of our own. */
export function clientMetadata(config: Pick<Config, "baseUrl">): OAuthClientMetadata {
  return {
    client_name: "MCP Gateway",
    client_uri: config.baseUrl,
    redirect_uris: [redirectUri(config)],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    software_id: "mcp-gateway",
    software_version: "0.1.0",
  };
}

/** The document served at `clientMetadataUrl`: its `client_id` is its own URL. */
export function clientMetadataDocument(config: Pick<Config, "baseUrl">): Record<string, unknown> | null {
  const url = clientMetadataUrl(config);
  return url ? { client_id: url, ...clientMetadata(config) } : null;
}
