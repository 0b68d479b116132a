import type { OAuthDiscoveryState, OAuthTokens, StoredOAuthClientInformation, StoredOAuthTokens } from "@modelcontextprotocol/client";
import type { UpstreamSecret } from "../../connections/secret.ts";

/** How the gateway identifies itself to the connection's authorization server. */
export type ClientSource = "operator" | "metadata_document" | "registration";

/**
 * Everything an OAuth connection keeps, sealed in its `credentials` row as
 * `{ kind: "oauth", data: OAuthData }`. Never leaves the server.
 */
export type OAuthData = {
  client?: StoredOAuthClientInformation;
  clientSource?: ClientSource;
  tokens?: StoredOAuthTokens;
  /** When the access token expires (epoch ms), or null when the server did not say. */
  expiresAt?: number | null;
  obtainedAt?: number;
  /** Protected-resource and authorization-server metadata from the last authorization. */
  discovery?: OAuthDiscoveryState;
  /** The scope granted (or, when the server did not say, requested) by the last authorization. */
  scope?: string;
  /** Scope an upstream asked for with 403 insufficient_scope; the next authorization requests it. */
  stepUpScope?: string;
};

export function oauthDataOf(secret: UpstreamSecret | null): OAuthData {
  return secret?.kind === "oauth" ? (secret.data as OAuthData) : {};
}

export function toOAuthSecret(data: OAuthData): UpstreamSecret {
  return { kind: "oauth", data: data as Record<string, unknown> };
}

/** The operator-registered client for a new OAuth connection, if one was given. */
export function operatorClient(clientId: string | undefined, clientSecret: string | undefined): OAuthData {
  if (!clientId) return {};
  return { client: { client_id: clientId, ...(clientSecret ? { client_secret: clientSecret } : {}) }, clientSource: "operator" };
}

/** Tokens as the SDK returned them, plus when they expire. A rotated-out refresh token is kept only if no new one came. */
export function withTokens(data: OAuthData, tokens: OAuthTokens & { issuer?: string }, now: number, requestedScope?: string): OAuthData {
  const refresh = tokens.refresh_token ?? data.tokens?.refresh_token;
  const scope = tokens.scope ?? requestedScope ?? data.scope;
  const stepUpCovered = !data.stepUpScope || (scope !== undefined && data.stepUpScope.split(/\s+/).every((s) => scope.split(/\s+/).includes(s)));
  return {
    ...data,
    tokens: { ...tokens, ...(refresh ? { refresh_token: refresh } : {}) },
    expiresAt: typeof tokens.expires_in === "number" ? now + tokens.expires_in * 1000 : null,
    obtainedAt: now,
    ...(scope ? { scope } : {}),
    ...(stepUpCovered ? { stepUpScope: undefined } : {}),
  };
}
