import { auth, CrossAppAccessProvider, discoverOAuthServerInfo, requestJwtAuthorizationGrant, type AuthProvider } from "@modelcontextprotocol/client";
import { and, eq } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import type { Config } from "../../config.ts";
import { decryptSecret, encryptSecret, type Keyring, type SecretBinding } from "../../crypto/encryption.ts";
import type { Logger } from "../../log.ts";
import { loadCredential, storeCredential } from "../../connections/credentials.ts";
import type { IdJagData } from "../../connections/secret.ts";
import type { ConnectionRow } from "../../connections/types.ts";
import { refreshMember } from "../../sso/oidc.ts";
import { getSsoProviderById, loadSsoClient } from "../../sso/providers.ts";
import { withIdentityLock } from "../../sso/refresh-lock.ts";
import { NeedsReauthorization } from "./errors.ts";
import { systemClock, type Clock } from "../../clock.ts";

/**
 * Enterprise-Managed Authorization (ID-JAG, SEP-990) for per-member upstreams: a member's token
 * comes from their identity provider sign-in, with no consent screen. The member's SSO refresh
 * token buys a fresh ID token; the IdP exchanges it (RFC 8693) for an ID-JAG addressed to the
 * upstream's authorization server; the SDK's CrossAppAccessProvider redeems that (RFC 7523
 * jwt-bearer). The access token is sealed in the member's own member_credentials row.
 */

export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Exchange again this long before the upstream token expires (at most half its lifetime). */
const RENEW_AHEAD_MS = 60_000;

export type IdJagManagerOptions = { database: Database; keyring: Keyring; config: Config; log: Logger; fetch: typeof fetch; now?: Clock };

type Ids = { connectionId: string; workspaceId: string; userId: string };

export class IdJagManager {
  /** One exchange at a time per (connection, member): calls arriving meanwhile share its token. */
  private readonly exchanges = new Map<string, Promise<string>>();

  constructor(private readonly options: IdJagManagerOptions) {}

  private now(): number {
    return (this.options.now ?? systemClock)();
  }

  authProviderFor(connection: ConnectionRow, userId: string | null): AuthProvider | undefined {
    if (connection.authKind !== "id-jag" || connection.sharing !== "per_member" || !userId) return undefined;
    const ids: Ids = { connectionId: connection.id, workspaceId: connection.workspaceId, userId };
    return {
      token: () => this.accessToken(connection, ids),
      // The upstream refused the token: whatever its expiry said, get another.
      onUnauthorized: async () => void (await this.exchangeOnce(connection, ids, { force: true })),
    };
  }

  private async accessToken(connection: ConnectionRow, ids: Ids): Promise<string> {
    const data = await this.readToken(ids);
    if (data?.accessToken && !this.renewDue(data)) return data.accessToken;
    return this.exchangeOnce(connection, ids, { force: false });
  }

  private exchangeOnce(connection: ConnectionRow, ids: Ids, options: { force: boolean }): Promise<string> {
    const key = `${ids.connectionId}\u0000${ids.userId}`;
    let running = this.exchanges.get(key);
    if (!running) {
      running = this.exchange(connection, ids, options).finally(() => this.exchanges.delete(key));
      this.exchanges.set(key, running);
    }
    return running;
  }

  private async exchange(connection: ConnectionRow, ids: Ids, options: { force: boolean }): Promise<string> {
    // Another call may have finished an exchange just before this one started.
    const stored = await this.readToken(ids);
    if (!options.force && stored?.accessToken && !this.renewDue(stored)) return stored.accessToken;
    const { database, keyring, log } = this.options;
    const client = await this.client(ids);
    if (!client?.clientId || !client.clientSecret || !client.issuer) throw new NeedsReauthorization("the connection has no client registered at the server's authorization server; an admin must set it up again");
    const identity = await this.identity(ids);
    const provider = new CrossAppAccessProvider({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      clientName: "MCP Gateway",
      // The client credentials go to this authorization server only.
      expectedIssuer: client.issuer,
      fetchFn: this.options.fetch,
      assertion: async (ctx) => {
        const idToken = await this.freshIdToken(identity);
        const grant = await requestJwtAuthorizationGrant({
          tokenEndpoint: identity.tokenEndpoint,
          audience: ctx.authorizationServerUrl,
          resource: ctx.resourceUrl,
          idToken,
          clientId: identity.clientId,
          clientSecret: identity.clientSecret,
          scope: ctx.scope,
          // The identity provider's token endpoint is an outbound fetch like any other.
          fetchFn: this.options.fetch,
        });
        return grant.jwtAuthGrant;
      },
    });
    try {
      await auth(provider, { serverUrl: connection.url, fetchFn: this.options.fetch });
    } catch (error) {
      if (error instanceof NeedsReauthorization) throw error;
      const why = error instanceof Error ? error.message.replace(/\s+/g, " ").slice(0, 200) : String(error);
      throw new NeedsReauthorization(`the exchange of your identity provider sign-in for a token failed (${why})`);
    }
    const tokens = provider.tokens();
    if (!tokens?.access_token) throw new NeedsReauthorization("the server's authorization server issued no access token");
    const now = this.now();
    const expiresAt = tokens.expires_in ? now + tokens.expires_in * 1000 : null;
    const data: IdJagData = { accessToken: tokens.access_token, obtainedAt: now, expiresAt };
    await storeCredential(database, keyring, ids, { kind: "id-jag", data }, expiresAt, now);
    log.info("upstream token obtained through the identity provider (ID-JAG)", { connectionId: ids.connectionId, userId: ids.userId });
    return tokens.access_token;
  }

  private async client(ids: Ids): Promise<IdJagData | null> {
    const secret = await loadCredential(this.options.database, this.options.keyring, { connectionId: ids.connectionId, workspaceId: ids.workspaceId });
    return secret?.kind === "id-jag" ? secret.data : null;
  }

  private async readToken(ids: Ids): Promise<IdJagData | null> {
    const secret = await loadCredential(this.options.database, this.options.keyring, ids);
    return secret?.kind === "id-jag" ? secret.data : null;
  }

  private renewDue(data: IdJagData): boolean {
    if (!data.expiresAt) return false;
    const lifetime = data.expiresAt - (data.obtainedAt ?? data.expiresAt);
    return data.expiresAt - this.now() <= Math.min(RENEW_AHEAD_MS, lifetime / 2);
  }

  /** The member's SSO identity in this workspace, with what it takes to talk to the IdP as the gateway. */
  private async identity(ids: Ids): Promise<SsoIdentity> {
    const { database } = this.options;
    const { t } = database;
    const [row] = await database.db
      .select({ id: t.ssoIdentities.id, providerId: t.ssoIdentities.providerId })
      .from(t.ssoIdentities)
      .innerJoin(t.ssoRefreshTokens, eq(t.ssoRefreshTokens.identityId, t.ssoIdentities.id))
      .where(and(eq(t.ssoIdentities.userId, ids.userId), eq(t.ssoIdentities.workspaceId, ids.workspaceId)))
      .limit(1);
    if (!row) throw new NeedsReauthorization("it takes its tokens from your identity provider sign-in, and you have not signed in to the gateway through SSO; sign in through SSO once, then call again");
    const provider = await getSsoProviderById(database, row.providerId);
    if (provider?.status !== "active") throw new NeedsReauthorization("the workspace's identity provider is not switched on");
    const oidc = await loadSsoClient({ database, keyring: this.options.keyring, config: this.options.config }, provider);
    if (!oidc.ok) throw new Error(`identity provider unavailable: ${oidc.reason}`);
    const client = oidc.client.clientMetadata();
    const tokenEndpoint = oidc.client.serverMetadata().token_endpoint;
    if (!tokenEndpoint || typeof client.client_secret !== "string") throw new NeedsReauthorization("the identity provider has no token endpoint the gateway can use");
    return { id: row.id, workspaceId: ids.workspaceId, oidc: oidc.client, tokenEndpoint, clientId: client.client_id, clientSecret: client.client_secret };
  }

  /**
   * A fresh ID token for the member, bought with their SSO refresh token (the rotated one is stored).
   * One refresh per identity at a time (revalidation takes the same lock): a rotating refresh token
   * spent twice would make the IdP revoke the member's grant.
   */
  private freshIdToken(identity: SsoIdentity): Promise<string> {
    return withIdentityLock(this.options.database, identity.id, async () => {
      const { database, keyring } = this.options;
      const { t } = database;
      const [row] = await database.db.select({ ciphertext: t.ssoRefreshTokens.ciphertext }).from(t.ssoRefreshTokens).where(eq(t.ssoRefreshTokens.identityId, identity.id));
      if (!row) throw new NeedsReauthorization("your identity provider sign-in has ended; sign in through SSO again");
      const refreshToken = await decryptSecret(keyring, row.ciphertext, refreshBinding(identity));
      const outcome = await refreshMember(identity.oidc, refreshToken);
      if (!outcome.ok) {
        if (outcome.refused) throw new NeedsReauthorization("your identity provider refused to renew your sign-in; sign in through SSO again");
        throw new Error(`identity provider refresh failed: ${outcome.reason}`);
      }
      const now = this.now();
      if (outcome.refreshToken !== refreshToken) {
        const sealed = await encryptSecret(keyring, outcome.refreshToken, refreshBinding(identity));
        await database.db.update(t.ssoRefreshTokens).set({ ciphertext: sealed.ciphertext, keyVersion: sealed.keyVersion, updatedAt: now }).where(eq(t.ssoRefreshTokens.identityId, identity.id));
      }
      // The IdP just vouched for the member: that is a revalidation too.
      await database.db.update(t.ssoIdentities).set({ validatedAt: now }).where(eq(t.ssoIdentities.id, identity.id));
      if (!outcome.idToken) throw new NeedsReauthorization("the identity provider sent no ID token on refresh, so it cannot vouch for you to this server");
      return outcome.idToken;
    });
  }
}

type SsoIdentity = { id: string; workspaceId: string; oidc: Parameters<typeof refreshMember>[0]; tokenEndpoint: string; clientId: string; clientSecret: string };

function refreshBinding(identity: { id: string; workspaceId: string }): SecretBinding {
  return { table: "sso_refresh_tokens", column: "ciphertext", rowId: identity.id, workspaceId: identity.workspaceId };
}

/**
 * What an admin's new ID-JAG connection is checked for: the server names an authorization server
 * (RFC 9728) that accepts jwt-bearer grants (RFC 8414). Returns its issuer, which the client
 * credentials are then pinned to.
 */
export async function discoverIdJagIssuer(url: string, fetchFn: typeof fetch): Promise<{ ok: true; issuer: string } | { ok: false; reason: string }> {
  try {
    const info = await discoverOAuthServerInfo(url, { fetchFn });
    const metadata = info.authorizationServerMetadata;
    if (!info.resourceMetadata) return { ok: false, reason: "The server publishes no protected resource metadata (RFC 9728), which enterprise-managed authorization needs." };
    if (!metadata?.grant_types_supported?.includes(JWT_BEARER)) return { ok: false, reason: "The server's authorization server does not accept JWT bearer grants (ID-JAG); use OAuth instead." };
    return { ok: true, issuer: metadata.issuer };
  } catch (error) {
    return { ok: false, reason: `The server's authorization server could not be discovered: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}` };
  }
}
