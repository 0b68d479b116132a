import { computeScopeUnion, OAuthError, OAuthErrorCode, refreshAuthorization, type AuthProvider, type OAuthDiscoveryState, type OAuthTokens } from "@modelcontextprotocol/client";
import type { Database } from "../../db/client.ts";
import type { Keyring } from "../../crypto/encryption.ts";
import type { Logger } from "../../log.ts";
import type { UpstreamAllowList } from "../../net/url-policy.ts";
import { createGuardedFetch } from "../../net/guarded-fetch.ts";
import { loadCredential, storeCredential } from "../../connections/credentials.ts";
import type { ConnectionRow } from "../../connections/types.ts";
import { oauthDataOf, toOAuthSecret, withTokens, type OAuthData } from "./data.ts";
import { NeedsReauthorization } from "./errors.ts";
import { systemClock, type Clock } from "../../clock.ts";

/** Refresh this long before expiry (at most half the token's lifetime). */
const REFRESH_AHEAD_MS = 60_000;
/**
 * A 401 this soon after our own refresh is taken to be for a request sent with the old token: the
 * transport retries it with the new one instead of spending the new refresh token at once. (The
 * transport does not tell us which token a refused request carried.) If the new token itself is
 * refused, the retry fails and the connection asks for re-authorization, which is what a token
 * refused seconds after it was issued needs anyway.
 */
const STALE_401_WINDOW_MS = 2_000;
/** After a refresh failed for a passing reason, wait this long before trying again while the token still works. */
const RETRY_REFRESH_AFTER_MS = 30_000;

/** A connection's shared OAuth credential, or (with `userId`) one member's own on a per-member connection. */
type Ids = Pick<ConnectionRow, "id" | "workspaceId"> & { userId?: string | null };

/** Tokens, refreshes and their single flight are kept per credential: per member where members have their own. */
function credentialKey(ids: Ids): string {
  return ids.userId ? `${ids.id}\u0000${ids.userId}` : ids.id;
}

type ConnectionAuth = {
  /** The decrypted credential, cached; dropped when the connection row changes. */
  data: OAuthData | null;
  version: number;
  refreshing: Promise<OAuthData> | null;
  lastRefreshAt: number;
  /** Why the grant died, kept for the calls that come after the one that found out. */
  lastRefusal: NeedsReauthorization | null;
  lastFailureAt: number;
  /** Serialises read-modify-write of the sealed credential. */
  queue: Promise<unknown>;
};

export type OAuthManagerOptions = {
  database: Database;
  keyring: Keyring;
  allow: UpstreamAllowList;
  log: Logger;
  /** Our Client ID Metadata Document URL: only when BASE_URL is https (see client-identity.ts). */
  clientMetadataUrl: string | null;
  /** The time tokens are judged by; the system clock unless a test moves it. */
  now?: Clock;
};

/**
 * Keeps OAuth connections' tokens fresh. Each connection has one refresh in flight at most, so a
 * rotating refresh token is spent exactly once however many calls arrive together: in a process,
 * calls share the refresh in flight; across replicas on one Postgres, a refresh runs under an
 * advisory lock named after the credential and first re-reads it, so a replica that waited finds
 * the tokens another one just obtained and uses them.
 */
export class OAuthManager {
  /** The SSRF-guarded fetch every OAuth request goes through (discovery, registration, tokens). */
  readonly fetch: typeof fetch;
  readonly clientMetadataUrl: string | null;
  private readonly connections = new Map<string, ConnectionAuth>();

  constructor(private readonly options: OAuthManagerOptions) {
    this.fetch = createGuardedFetch({ allow: options.allow });
    this.clientMetadataUrl = options.clientMetadataUrl;
  }

  now(): number {
    return (this.options.now ?? systemClock)();
  }

  /** What the upstream transport calls: a fresh access token before each request, recovery after a 401. */
  authProviderFor(connection: ConnectionRow, userId: string | null = null): AuthProvider | undefined {
    if (connection.authKind !== "oauth") return undefined;
    const ids: Ids = { id: connection.id, workspaceId: connection.workspaceId, userId: connection.sharing === "per_member" ? userId : null };
    const entry = this.entry(ids);
    if (entry.version !== connection.updatedAt) {
      entry.data = null;
      entry.version = connection.updatedAt;
    }
    return {
      token: () => this.accessToken(ids),
      onUnauthorized: () => this.recover(ids),
    };
  }

  async load(connection: Ids): Promise<OAuthData> {
    const entry = this.entry(connection);
    entry.data ??= await this.read(connection);
    return entry.data;
  }

  /** Changes the sealed credential, one change at a time per connection, always starting from the stored row. */
  update(connection: Ids, change: (data: OAuthData) => OAuthData): Promise<OAuthData> {
    const entry = this.entry(connection);
    const run = entry.queue.then(async () => {
      const next = change(await this.read(connection));
      const { database, keyring } = this.options;
      await storeCredential(database, keyring, { connectionId: connection.id, workspaceId: connection.workspaceId, userId: connection.userId }, toOAuthSecret(next), next.expiresAt ?? null, this.now());
      entry.data = next;
      return next;
    });
    entry.queue = run.catch(() => undefined);
    return run;
  }

  /** Stores the tokens of a finished authorization. */
  async storeAuthorization(connection: Ids, tokens: OAuthTokens & { issuer?: string }, requestedScope: string | undefined, discovery: OAuthDiscoveryState | undefined): Promise<void> {
    // The discovery that led to these tokens is what their refreshes go back to.
    await this.update(connection, (data) => withTokens({ ...data, tokens: undefined, discovery }, tokens, this.now(), requestedScope));
    const entry = this.entry(connection);
    // New tokens from a person: a 401 from now on is about them, not about an earlier refresh.
    entry.lastRefreshAt = 0;
    entry.lastFailureAt = 0;
    entry.lastRefusal = null;
  }

  /** An upstream asked for more scope: the next authorization asks for it too. */
  async noteStepUp(connection: Ids, scope: string | undefined): Promise<void> {
    if (!scope) return;
    await this.update(connection, (data) => ({ ...data, stepUpScope: computeScopeUnion(data.stepUpScope, scope) }));
  }

  forget(connectionId: string): void {
    for (const key of [...this.connections.keys()]) if (key === connectionId || key.startsWith(`${connectionId}\u0000`)) this.connections.delete(key);
  }

  private async accessToken(connection: Ids): Promise<string> {
    const entry = this.entry(connection);
    // A refresh under way (after a 401): wait for its token rather than send the refused one.
    if (entry.refreshing) await entry.refreshing.catch(() => undefined);
    const data = await this.load(connection);
    const token = data.tokens?.access_token;
    if (!token) throw entry.lastRefusal ?? new NeedsReauthorization("it is not authorized yet; use Connect in the dashboard");
    if (!this.refreshDue(data) || !data.tokens?.refresh_token || this.now() - entry.lastFailureAt < RETRY_REFRESH_AFTER_MS) return token;
    try {
      return (await this.refresh(connection)).tokens?.access_token ?? token;
    } catch (error) {
      if (error instanceof NeedsReauthorization || this.expired(data)) throw error;
      entry.lastFailureAt = this.now();
      this.options.log.warn("upstream token refresh failed; the current token is used until it expires", { connectionId: connection.id, error });
      return token;
    }
  }

  private async recover(connection: Ids): Promise<void> {
    const entry = this.entry(connection);
    if (entry.refreshing) {
      await entry.refreshing;
      return;
    }
    if (this.now() - entry.lastRefreshAt < STALE_401_WINDOW_MS) return;
    await this.refresh(connection, { force: true });
  }

  /** One refresh per connection at a time; callers arriving meanwhile share its outcome. */
  private refresh(connection: Ids, options: { force?: boolean } = {}): Promise<OAuthData> {
    const entry = this.entry(connection);
    entry.refreshing ??= this.refreshOnce(connection, entry, options).finally(() => {
      entry.refreshing = null;
    });
    return entry.refreshing;
  }

  private refreshOnce(connection: Ids, entry: ConnectionAuth, options: { force?: boolean }): Promise<OAuthData> {
    return this.options.database.withLock(`mgw-oauth-refresh:${connection.id}:${connection.userId ?? ""}`, () => this.refreshLocked(connection, entry, options));
  }

  private async refreshLocked(connection: Ids, entry: ConnectionAuth, options: { force?: boolean }): Promise<OAuthData> {
    const cached = entry.data;
    const stored = await this.read(connection);
    // Another replica, or a finished authorization, may have replaced the tokens meanwhile.
    const replaced = stored.tokens?.access_token !== undefined && stored.tokens.access_token !== cached?.tokens?.access_token;
    if (replaced && !this.refreshDue(stored)) {
      entry.data = stored;
      return stored;
    }
    const refreshToken = stored.tokens?.refresh_token;
    if (!refreshToken) {
      throw new NeedsReauthorization(
        options.force
          ? "the server refused the stored access token and no refresh token was issued; re-authorize the connection"
          : "the access token expired and no refresh token was issued; re-authorize the connection",
      );
    }
    const discovery = stored.discovery;
    if (!discovery?.authorizationServerUrl || !stored.client) {
      throw new NeedsReauthorization("the stored authorization is incomplete; re-authorize the connection");
    }
    let tokens: OAuthTokens;
    try {
      tokens = await refreshAuthorization(discovery.authorizationServerUrl, {
        metadata: discovery.authorizationServerMetadata,
        clientInformation: stored.client,
        refreshToken,
        // RFC 8707: the token stays bound to this MCP server.
        resource: discovery.resourceMetadata?.resource,
        fetchFn: this.fetch,
      });
    } catch (error) {
      if (!isGrantRefused(error)) throw error;
      await this.update(connection, (data) => ({ ...data, tokens: undefined, expiresAt: null }));
      entry.lastRefusal = new NeedsReauthorization(`the authorization server refused to refresh the token (${describeOAuthError(error)}); re-authorize the connection`);
      throw entry.lastRefusal;
    }
    const issuer = discovery.authorizationServerMetadata?.issuer ?? discovery.authorizationServerUrl;
    const next = await this.update(connection, (data) => withTokens(data, { ...tokens, issuer }, this.now()));
    entry.lastRefreshAt = this.now();
    entry.lastFailureAt = 0;
    this.options.log.info("upstream token refreshed", { connectionId: connection.id });
    return next;
  }

  private refreshDue(data: OAuthData): boolean {
    if (!data.expiresAt) return false;
    const lifetime = data.expiresAt - (data.obtainedAt ?? data.expiresAt);
    return data.expiresAt - this.now() <= Math.min(REFRESH_AHEAD_MS, lifetime / 2);
  }

  private expired(data: OAuthData): boolean {
    return data.expiresAt !== null && data.expiresAt !== undefined && data.expiresAt <= this.now();
  }

  private async read(connection: Ids): Promise<OAuthData> {
    const { database, keyring } = this.options;
    return oauthDataOf(await loadCredential(database, keyring, { connectionId: connection.id, workspaceId: connection.workspaceId, userId: connection.userId }));
  }

  private entry(ids: Ids): ConnectionAuth {
    const key = credentialKey(ids);
    let entry = this.connections.get(key);
    if (!entry) {
      entry = { data: null, version: 0, refreshing: null, lastRefreshAt: 0, lastRefusal: null, lastFailureAt: 0, queue: Promise.resolve() };
      this.connections.set(key, entry);
    }
    return entry;
  }
}

/** The authorization server answered, and said no: the grant (or the client) is dead, not the network. */
function isGrantRefused(error: unknown): error is OAuthError {
  return error instanceof OAuthError && error.code !== OAuthErrorCode.ServerError && error.code !== OAuthErrorCode.TemporarilyUnavailable && error.code !== OAuthErrorCode.TooManyRequests;
}

/** `code: description`, clipped: the description comes from the authorization server. */
export function describeOAuthError(error: OAuthError): string {
  const description = error.message && error.message !== error.code ? `: ${error.message}` : "";
  const text = `${error.code}${description}`.replace(/\s+/g, " ");
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}
