import type { Client, OAuthClientProvider } from "@modelcontextprotocol/client";
import type { Database } from "../db/client.ts";
import type { Keyring } from "../crypto/encryption.ts";
import type { Logger } from "../log.ts";
import type { UpstreamAllowList } from "../connections/url-policy.ts";
import { loadCredential, type UpstreamSecret } from "../connections/credentials.ts";
import { connectUpstream } from "../connections/upstream-client.ts";
import type { ConnectionRow } from "./tool-index.ts";

export type PooledClient = { client: Client; secret: UpstreamSecret | null };

export type UpstreamPoolOptions = {
  database: Database;
  keyring: Keyring;
  allow: UpstreamAllowList;
  log: Logger;
  /** An upstream said its tool list changed. */
  onToolsChanged?: (connection: ConnectionRow) => void;
  /** OAuth connections get their tokens (and refreshes) through this. */
  authProviderFor?: (connection: ConnectionRow) => OAuthClientProvider | undefined;
};

/**
 * One connected SDK client per connection, shared by every request (the MCP endpoint builds a new
 * server per request, so clients must outlive it). A changed connection row (updatedAt) or a closed
 * transport means a fresh client on the next call.
 */
export class UpstreamPool {
  private readonly clients = new Map<string, { version: number; pooled: Promise<PooledClient> }>();

  constructor(private readonly options: UpstreamPoolOptions) {}

  get(connection: ConnectionRow): Promise<PooledClient> {
    const cached = this.clients.get(connection.id);
    if (cached && cached.version === connection.updatedAt) return cached.pooled;
    if (cached) this.drop(connection.id);
    const pooled = this.connect(connection);
    const entry = { version: connection.updatedAt, pooled };
    this.clients.set(connection.id, entry);
    pooled.catch(() => {
      if (this.clients.get(connection.id) === entry) this.clients.delete(connection.id);
    });
    return pooled;
  }

  private async connect(connection: ConnectionRow): Promise<PooledClient> {
    const { database, keyring, allow } = this.options;
    const secret = await loadCredential(database, keyring, { connectionId: connection.id, workspaceId: connection.workspaceId });
    const client = await connectUpstream({
      url: connection.url,
      secret,
      allow,
      authProvider: this.options.authProviderFor?.(connection),
      onToolsChanged: () => this.options.onToolsChanged?.(connection),
      onClose: () => {
        const current = this.clients.get(connection.id);
        current?.pooled.then((p) => {
          if (p.client === client && this.clients.get(connection.id) === current) this.clients.delete(connection.id);
        });
      },
    });
    this.options.log.debug("upstream connected", { connection: connection.name, protocol: client.getNegotiatedProtocolVersion() });
    return { client, secret };
  }

  /** Forget (and close) the client of a connection that changed, failed or was removed. */
  drop(connectionId: string): void {
    const entry = this.clients.get(connectionId);
    this.clients.delete(connectionId);
    entry?.pooled.then((p) => p.client.close()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const entries = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(entries.map((e) => e.pooled.then((p) => p.client.close()).catch(() => undefined)));
  }
}
