// An upstream whose authorization server supports Enterprise-Managed Authorization (SEP-990), on
// loopback, for tests only. The authorization server advertises the jwt-bearer grant (RFC 7523) in
// its RFC 8414 metadata, authenticates its one pre-registered client (basic or post), and redeems
// an ID-JAG only when it is signed by the trusted IdP (its JWKS, fetched), typed oauth-id-jag+jwt,
// addressed to this server, for this resource and this client. Each access token belongs to the
// ID-JAG's subject. In front: the SDK fixture MCP server behind the SDK's bearer gate, with RFC 9728
// metadata naming this authorization server, recording which subject every call came from.
import { randomBytes } from "node:crypto";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { OAuthError, OAuthErrorCode, requireBearerAuth, type AuthInfo } from "@modelcontextprotocol/server";
import { createUpstreamHandler, type UpstreamState } from "./upstream.ts";

export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

export type IdJagUpstream = UpstreamState & {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  issuer: string;
  client: { clientId: string; clientSecret: string };
  /** The subject behind each tools/call that got through, in order. */
  callSubjects: string[];
  /** Subjects of each jwt-bearer grant redeemed, in order. */
  redeemed: string[];
  /** Refusals at the token endpoint (error codes). */
  refusedGrants: string[];
  /** Every access token issued, for leak checks. */
  issued: string[];
  /** Makes every issued access token unknown (the next call gets 401). */
  forgetAccessTokens(): void;
  /** Lifetime of the access tokens issued from now on, in seconds. */
  setAccessTokenTtl(seconds: number): void;
  stop(): Promise<void>;
};

export async function startIdJagUpstream(options: { idpIssuer: string; accessTokenTtl?: number; tools?: string[] }): Promise<IdJagUpstream> {
  const client = { clientId: "mcp-gateway-upstream", clientSecret: `secret_${randomBytes(16).toString("base64url")}` };
  const jwks = createRemoteJWKSet(new URL(`${options.idpIssuer}/jwks`));
  const tokens = new Map<string, { sub: string; expiresAt: number }>();
  const inner = createUpstreamHandler({ tools: options.tools ?? ["echo"], name: "idjag-upstream" });
  const callSubjects: string[] = [];
  const redeemed: string[] = [];
  const refusedGrants: string[] = [];
  const issued: string[] = [];
  let ttl = options.accessTokenTtl ?? 3600;
  let base = "";
  const resource = (): string => `${base}/mcp`;

  const refuse = (error: string, status = 400): Response => {
    refusedGrants.push(error);
    return Response.json({ error }, { status });
  };

  async function token(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text());
    const basic = request.headers.get("authorization")?.match(/^Basic (.+)$/)?.[1];
    const [id, secret] = basic ? Buffer.from(basic, "base64").toString().split(":").map(decodeURIComponent) : [form.get("client_id"), form.get("client_secret")];
    if (id !== client.clientId || secret !== client.clientSecret) return refuse("invalid_client", 401);
    if (form.get("grant_type") !== JWT_BEARER) return refuse("unsupported_grant_type");
    let sub: string;
    try {
      const { payload } = await jwtVerify(form.get("assertion") ?? "", jwks, { issuer: options.idpIssuer, audience: base, typ: "oauth-id-jag+jwt" });
      if (payload.resource !== resource() || payload.client_id !== client.clientId || typeof payload.sub !== "string") return refuse("invalid_grant");
      sub = payload.sub;
    } catch {
      return refuse("invalid_grant");
    }
    const value = `at_${randomBytes(24).toString("base64url")}`;
    tokens.set(value, { sub, expiresAt: Date.now() + ttl * 1000 });
    issued.push(value);
    redeemed.push(sub);
    return Response.json({ access_token: value, token_type: "Bearer", expires_in: ttl });
  }

  const verifier = {
    async verifyAccessToken(value: string): Promise<AuthInfo> {
      const found = tokens.get(value);
      if (!found || found.expiresAt <= Date.now()) throw new OAuthError(OAuthErrorCode.InvalidToken, "unknown or expired token");
      return { token: value, clientId: client.clientId, scopes: [], expiresAt: Math.floor(found.expiresAt / 1000), resource: new URL(resource()), extra: { sub: found.sub } };
    },
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/.well-known/oauth-authorization-server") {
        return Response.json({
          issuer: base,
          // Required by the metadata schema; this server has no interactive flow.
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          grant_types_supported: [JWT_BEARER],
          token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
          response_types_supported: ["code"],
        });
      }
      if (path === "/.well-known/oauth-protected-resource/mcp") return Response.json({ resource: resource(), authorization_servers: [base], bearer_methods_supported: ["header"] });
      if (path === "/token" && request.method === "POST") return token(request);
      if (path !== "/mcp") return new Response("not found", { status: 404 });
      const gate = requireBearerAuth({ verifier, resourceMetadataUrl: `${base}/.well-known/oauth-protected-resource/mcp`, expectedResource: new URL(resource()) });
      const checked = await gate(request);
      if (checked instanceof Response) return checked;
      const body = (await request
        .clone()
        .json()
        .catch(() => null)) as { method?: string } | null;
      if (body?.method === "tools/call") callSubjects.push(String(checked.extra?.sub));
      return inner.fetch(request);
    },
  });
  base = `http://127.0.0.1:${server.port}`;
  return Object.assign(inner, {
    url: resource(),
    issuer: base,
    client,
    callSubjects,
    redeemed,
    refusedGrants,
    issued,
    forgetAccessTokens: () => tokens.clear(),
    setAccessTokenTtl: (seconds: number) => {
      ttl = seconds;
    },
    async stop() {
      await server.stop(true);
      await inner.close();
    },
  });
}
