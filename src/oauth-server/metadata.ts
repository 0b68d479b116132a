import type { Config } from "../config.ts";
import { MCP_PATH } from "../gateway/mcp-endpoint.ts";

/**
 * The gateway as the authorization server its RFC 9728 metadata names: MCP clients discover it,
 * register (or present a Client ID Metadata Document), send the member through /oauth/authorize
 * (dashboard sign-in, SSO included, then consent) and redeem the code at /oauth/token.
 */

export const AUTHORIZE_PATH = "/oauth/authorize";
export const TOKEN_PATH = "/oauth/token";
export const REGISTER_PATH = "/oauth/register";
export const REVOKE_PATH = "/oauth/revoke";
export const AS_METADATA_PATH = "/.well-known/oauth-authorization-server";

/** The one scope: use the gateway's MCP endpoint as the member. offline_access is accepted and implied. */
export const MCP_SCOPE = "mcp";
export const SUPPORTED_SCOPES = [MCP_SCOPE, "offline_access"];

export function issuerUrl(config: Pick<Config, "baseUrl">): string {
  return config.baseUrl;
}

/** The only resource this server issues tokens for (RFC 8707). */
export function mcpResource(config: Pick<Config, "baseUrl">): string {
  return `${config.baseUrl}${MCP_PATH}`;
}

/** RFC 8414 metadata. */
export function authorizationServerMetadata(config: Pick<Config, "baseUrl">): Record<string, unknown> {
  const base = config.baseUrl;
  return {
    issuer: issuerUrl(config),
    authorization_endpoint: `${base}${AUTHORIZE_PATH}`,
    token_endpoint: `${base}${TOKEN_PATH}`,
    registration_endpoint: `${base}${REGISTER_PATH}`,
    revocation_endpoint: `${base}${REVOKE_PATH}`,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none"],
    revocation_endpoint_auth_methods_supported: ["none"],
    scopes_supported: SUPPORTED_SCOPES,
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
    service_documentation: `${base}/`,
  };
}

export type ScopeCheck = { ok: true; scope: string } | { ok: false };

/** No scope asks for the default one; an unknown scope is refused (RFC 6749 invalid_scope). */
export function checkScope(requested: string | null | undefined): ScopeCheck {
  const asked = (requested ?? "").split(" ").filter(Boolean);
  if (asked.some((s) => !SUPPORTED_SCOPES.includes(s))) return { ok: false };
  return { ok: true, scope: MCP_SCOPE };
}
