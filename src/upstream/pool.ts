import type { AuthProvider, Client, OAuthClientProvider } from "@modelcontextprotocol/client";
import type { Database } from "../db/client.ts";
import type { Keyring } from "../crypto/encryption.ts";
import type { Logger } from "../log.ts";
import type { UpstreamAllowList } from "../net/url-policy.ts";
import { loadCredential } from "../connections/credentials.ts";
import type { UpstreamSecret } from "../connections/secret.ts";
import { CONNECT_TIMEOUT_MS, connectUpstream, describeUpstreamError, isRetryableDiscovery, raceSignal } from "./client.ts";
import { AnswerWatch } from "./answer-watch.ts";
import { redactorFor, type Redactor } from "../connections/redact.ts";
import { DEFAULT_QUEUE_LIMITS, InFlightCalls, type QueueLimits } from "./in-flight.ts";
import { CallSignals } from "./call-signals.ts";
import { OpenRequests } from "./open-requests.ts";
import { DEFAULT_HOLD_LIMITS, HeldCalls, type HoldLimits } from "./held-calls.ts";
import { RetryAfterWindows } from "./retry-after.ts";
import { HealthWindow } from "./health-rule.ts";
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from "./retry.ts";
import type { ConnectionRow } from "../connections/types.ts";
import type { OutboundObserver } from "./outbound-fetch.ts";

/**
 * `redactor` holds every form of the credential the client sends (and each OAuth token it is
 * handed later): what the upstream answers passes through it before it goes anywhere. Never logged.
 */
export type PooledClient = { client: Client; secret: UpstreamSecret | null; redactor: Redactor; answers: AnswerWatch };

/** Whose credential a client carries: null for a shared connection, the member's id on a per-member one. */
export type CredentialOwner = { userId?: string | null };

export type UpstreamPoolOptions = {
  database: Database;
  keyring: Keyring;
  allow: UpstreamAllowList;
  log: Logger;
  /** A connection without its own timeout gets this deadline, for the handshake too (at most 15 s). */
  callTimeoutMs?: number;
  /** Calls one connection may have in flight, and how many may wait for a place, how long (see InFlightCalls). */
  queue?: Partial<QueueLimits>;
  /** HTTP requests open to one connection's upstream, and to all (see OpenRequests). */
  openRequests?: { perConnection: number; total: number };
  /** The window over which calls are judged (see health-rule.ts). */
  healthWindowMs?: number;
  retry?: RetryPolicy;
  /** Calls held open while their clients answer a question (see held-calls.ts). */
  hold?: Partial<HoldLimits>;
  /**
   * An upstream said its tool list changed. Called at most once per `toolsChangedWindowMs` per
   * connection, never while the previous call for it is still running: a storm costs one sync.
   */
  onToolsChanged?: (connection: ConnectionRow) => Promise<unknown> | undefined;
  toolsChangedWindowMs?: number;
  /** An upstream's `notifications/resources/updated`, with the member whose client heard it (per-member connections). */
  onResourceUpdated?: (connection: ConnectionRow, userId: string | null, uri: string) => void;
  /** Watches each connection's upstream POSTs (metrics, traces); see outbound-fetch.ts. */
  observeOutbound?: (connection: ConnectionRow) => OutboundObserver | undefined;
  /** OAuth connections get their tokens (and refreshes) through this. */
  authProviderFor?: (connection: ConnectionRow, userId: string | null) => AuthProvider | OAuthClientProvider | undefined;
};

type ChangeState = { timer: ReturnType<typeof setTimeout> | null; running: boolean; again: boolean };

/**
 * Everything the gateway holds per upstream connection: one connected SDK client shared by every
 * request (the MCP endpoint builds a new server per request, so clients must outlive it), the calls
 * in flight on it, and its probe in progress. A changed connection row (updatedAt) or a closed
 * transport means a fresh client on the next call. Connections never wait on each other: each
 * has its own handshake, with its own deadline. `ready` is the client once connected, so that a
 * request on a connected client waits on nothing.
 */
type Entry = { version: number; pooled: Promise<PooledClient>; ready?: PooledClient; users: number; retired: boolean };

export class UpstreamPool {
  readonly calls: InFlightCalls;
  /** Each call's signal, by which its upstream request is aborted when the call ends. */
  readonly callSignals = new CallSignals();
  readonly openRequests: OpenRequests;
  /** Connections whose upstream asked (429/503 Retry-After) not to be called for a while. */
  readonly waits = new RetryAfterWindows();
  /** The recent calls of each connection, that health.ts judges. */
  readonly health: HealthWindow;
  /** Calls whose upstream asked their client something, waiting for the client's next round. */
  readonly held: HeldCalls;
  private readonly clients = new Map<string, Entry>();
  private readonly retiring = new Set<Entry>();
  private readonly probes = new Map<string, Promise<unknown>>();
  private readonly changes = new Map<string, ChangeState>();
  private readonly closing = new AbortController();

  constructor(private readonly options: UpstreamPoolOptions) {
    this.calls = new InFlightCalls({ ...DEFAULT_QUEUE_LIMITS, ...options.queue });
    this.health = new HealthWindow(options.healthWindowMs ?? 30_000);
    this.openRequests = new OpenRequests(options.openRequests ?? { perConnection: 64, total: 2048 });
    this.held = new HeldCalls({ ...DEFAULT_HOLD_LIMITS, ...options.hold });
  }

  /** Upstream clients held (connected or connecting), for the metrics. */
  get size(): number {
    return this.clients.size;
  }

  /** The connection's client, connecting if needed; gives up waiting when `signal` aborts. */
  get(connection: ConnectionRow, options: { signal?: AbortSignal } & CredentialOwner = {}): Promise<PooledClient> {
    const entry = this.entryFor(connection, options.userId ?? null);
    return options.signal ? raceSignal(entry.pooled, options.signal) : entry.pooled;
  }

  /**
   * Runs `work` with the connection's client. When it fails in a way that may have broken the
   * client, the client is retired: the next request gets a new one, and this one closes once the
   * requests still using it are done (closing it at once would fail them too).
   */
  async use<T>(connection: ConnectionRow, options: { signal?: AbortSignal } & CredentialOwner, work: (pooled: PooledClient) => Promise<T>): Promise<T> {
    const userId = options.userId ?? null;
    const entry = this.entryFor(connection, userId);
    entry.users++;
    try {
      const ready = options.signal?.aborted ? undefined : entry.ready;
      const pooled = ready ?? (await (options.signal ? raceSignal(entry.pooled, options.signal) : entry.pooled));
      return await work(pooled);
    } catch (error) {
      if (!options.signal?.aborted && mayHaveBrokenClient(error)) this.retire(clientKey(connection.id, userId), entry);
      throw error;
    } finally {
      entry.users--;
      if (entry.retired && entry.users === 0) this.close(entry);
    }
  }

  /**
   * A per-member connection has one client per member: a client carries one credential (headers or
   * auth provider, and the upstream session made with it), so sharing it would lend one member's
   * upstream identity to another.
   */
  private entryFor(connection: ConnectionRow, userId: string | null): Entry {
    const owner = connection.sharing === "per_member" ? userId : null;
    if (connection.sharing === "per_member" && !owner) throw new Error("a per-member connection needs a member to call it as");
    const key = clientKey(connection.id, owner);
    const cached = this.clients.get(key);
    if (cached && cached.version === connection.updatedAt) return cached;
    if (cached) this.retire(key, cached);
    const entry: Entry = { version: connection.updatedAt, pooled: this.connect(connection, owner, key), users: 0, retired: false };
    this.clients.set(key, entry);
    entry.pooled.then(
      (pooled) => {
        entry.ready = pooled;
      },
      () => {
        if (this.clients.get(key) === entry) this.clients.delete(key);
      },
    );
    return entry;
  }

  private async connect(connection: ConnectionRow, userId: string | null, key: string): Promise<PooledClient> {
    const { database, keyring, allow, log } = this.options;
    const secret = await loadCredential(database, keyring, { connectionId: connection.id, workspaceId: connection.workspaceId, userId });
    const redactor = redactorFor(secret);
    const authProvider = redacting(this.options.authProviderFor?.(connection, userId), redactor);
    const timeoutMs = Math.min(CONNECT_TIMEOUT_MS, connection.callTimeoutMs ?? this.options.callTimeoutMs ?? CONNECT_TIMEOUT_MS);
    const started = Date.now();
    const answers = new AnswerWatch();
    let connected: Client | null = null;
    // The handshake is discovery: it changes nothing upstream, so a refused or failed one is tried again.
    const client = await withRetries(
      () =>
        connectUpstream({
          url: connection.url,
          secret,
          allow,
          timeoutMs: Math.max(1, started + timeoutMs - Date.now()),
          signal: this.closing.signal,
          answers,
          outbound: { connectionId: connection.id, calls: this.callSignals, open: this.openRequests, waits: this.waits, observe: this.options.observeOutbound?.(connection) },
          authProvider,
          onToolsChanged: () => this.toolsChanged(connection),
          onResourceUpdated: (uri) => this.options.onResourceUpdated?.(connection, userId, uri),
          onClose: () => {
            if (connected) this.forget(key, connected);
          },
        }),
      {
        policy: this.options.retry ?? DEFAULT_RETRY,
        deadlineAt: started + timeoutMs,
        signal: this.closing.signal,
        retryable: (error) => isRetryableDiscovery(describeUpstreamError(error)),
        onRetry: (error, retry, delayMs) => log.debug("upstream connect retried", { connection: connection.name, retry, delayMs: Math.round(delayMs), error: redactor.redactText(describeUpstreamError(error).message) }),
      },
    );
    connected = client;
    log.debug("upstream connected", { connection: connection.name, protocol: client.getNegotiatedProtocolVersion() });
    return { client, secret, redactor, answers };
  }

  /** The transport closed by itself: the next request connects again. */
  private forget(key: string, client: Client): void {
    const current = this.clients.get(key);
    current?.pooled.then((p) => {
      if (p.client === client && this.clients.get(key) === current) this.clients.delete(key);
    }, () => undefined);
  }

  /**
   * Forget the client of a connection that changed, failed or was removed (every member's, or with
   * `userId` only that member's); it closes once unused.
   */
  drop(connectionId: string, options: CredentialOwner = {}): void {
    for (const [key, entry] of [...this.clients]) {
      const matches = options.userId ? key === clientKey(connectionId, options.userId) : key === connectionId || key.startsWith(`${connectionId}\u0000`);
      if (matches) this.retire(key, entry);
    }
  }

  private retire(key: string, entry: Entry): void {
    if (this.clients.get(key) === entry) this.clients.delete(key);
    if (entry.retired) return;
    entry.retired = true;
    if (entry.users === 0) this.close(entry);
    else this.retiring.add(entry);
  }

  private close(entry: Entry): void {
    this.retiring.delete(entry);
    entry.pooled.then((p) => p.client.close()).catch(() => undefined);
  }

  /** Runs `probe` unless one is already running for this connection, in which case that one is awaited. */
  probeOnce<T>(connectionId: string, probe: () => Promise<T>): Promise<T> {
    const running = this.probes.get(connectionId);
    if (running) return running as Promise<T>;
    const started = probe().finally(() => this.probes.delete(connectionId));
    this.probes.set(connectionId, started);
    return started;
  }

  private toolsChanged(connection: ConnectionRow): void {
    const hook = this.options.onToolsChanged;
    if (!hook || this.closing.signal.aborted) return;
    let state = this.changes.get(connection.id);
    if (!state) {
      state = { timer: null, running: false, again: false };
      this.changes.set(connection.id, state);
    }
    if (state.timer !== null || state.running) {
      state.again = true;
      return;
    }
    const s = state;
    const run = async (): Promise<void> => {
      s.timer = null;
      s.running = true;
      s.again = false;
      try {
        await hook(connection);
      } catch (error) {
        this.options.log.warn("re-sync after list_changed failed", { connection: connection.name, error: error instanceof Error ? error.message : String(error) });
      } finally {
        s.running = false;
        if (s.again && !this.closing.signal.aborted) {
          s.again = false;
          s.timer = setTimeout(run, this.options.toolsChangedWindowMs ?? 1000);
        } else {
          this.changes.delete(connection.id);
        }
      }
    };
    s.timer = setTimeout(run, this.options.toolsChangedWindowMs ?? 1000);
  }

  /** Gives up handshakes in progress, stops pending re-syncs and closes every client. */
  async closeAll(): Promise<void> {
    this.closing.abort(new Error("the gateway is shutting down"));
    this.held.cancelAll("the gateway is shutting down");
    for (const state of this.changes.values()) if (state.timer !== null) clearTimeout(state.timer);
    this.changes.clear();
    const entries = [...this.clients.values(), ...this.retiring];
    this.clients.clear();
    this.retiring.clear();
    await Promise.all(entries.map((e) => e.pooled.then((p) => p.client.close()).catch(() => undefined)));
  }
}

/**
 * OAuth and ID-JAG tokens are obtained (and refreshed) after the client was made: each token the
 * provider hands the transport joins the client's redaction set before it is sent.
 */
function redacting(provider: AuthProvider | OAuthClientProvider | undefined, redactor: Redactor): AuthProvider | OAuthClientProvider | undefined {
  if (!provider || !("token" in provider) || typeof provider.token !== "function") return provider;
  const inner = provider as AuthProvider;
  return {
    token: async () => {
      const token = await inner.token();
      redactor.add(token);
      return token;
    },
    ...(inner.onUnauthorized ? { onUnauthorized: (ctx) => inner.onUnauthorized!(ctx) } : {}),
  };
}

/**
 * A session may be gone (404), the socket dropped, the credential changed: start afresh. An
 * upstream that answered 5xx or 429, a timeout or a tool's own error leave the client as it was;
 * replacing it would only add a handshake to the next call.
 */
function mayHaveBrokenClient(error: unknown): boolean {
  const failure = describeUpstreamError(error);
  if (failure.kind === "protocol" || failure.kind === "timeout" || failure.kind === "too_large" || failure.kind === "busy") return false;
  return failure.httpStatus === undefined || (failure.httpStatus < 500 && failure.httpStatus !== 429);
}

function clientKey(connectionId: string, userId: string | null): string {
  return userId ? `${connectionId}\u0000${userId}` : connectionId;
}
