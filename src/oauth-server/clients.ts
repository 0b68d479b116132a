import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { generateToken } from "../crypto/tokens.ts";
import { ResponseTooLarge, type ResponseBudget } from "../net/guarded-fetch.ts";
import { createRateLimiter, type RateLimiter } from "../web/rate-limit.ts";

/**
 * Who an MCP client is: either registered here through Dynamic Client Registration (RFC 7591), or
 * an https URL whose Client ID Metadata Document we fetch. Either way a public client (PKCE, no
 * secret) with a fixed list of redirect URIs. Names are whatever the client says: untrusted text.
 */

export type OAuthClient = { id: string; name: string; redirectUris: string[]; source: "registered" | "metadata_document" };

/**
 * `reason` is for the log and for tests: for a metadata document it may say what answered where,
 * which a page shown to anyone must not (see routes.tsx).
 */
export type ClientLookup =
  | { ok: true; client: OAuthClient }
  | { ok: false; refused: "not_registered" | "document"; reason: string }
  | { ok: false; refused: "rate_limited"; reason: string; retryAfterSeconds: number };

/**
 * A metadata document is a small JSON object (a name and up to ten redirect URIs): 16 KiB is
 * plenty, and is all the gateway reads of one, however much is sent. 5 s: anyone can make the
 * gateway fetch one, so a slow server must not hold a socket for long.
 */
export const CLIENT_DOCUMENT_BUDGET: ResponseBudget = { maxBytes: 16 * 1024, deadlineMs: 5_000 };
/** A good document is used for five minutes without fetching it again. */
const DOCUMENT_KEPT_MS = 5 * 60_000;
/** A refused one is refused again for a minute without fetching it again. */
const REFUSAL_KEPT_MS = 60_000;
const KEPT_DOCUMENTS = 500;
/**
 * Fetches of documents not already known, per requesting address: anyone can trigger them, signed
 * in or not. A client being authorized needs one; ten a minute leaves room for a developer's retries.
 */
export const DOCUMENT_FETCHES_PER_MINUTE = 10;

export type RegisterResult =
  | { ok: true; registration: Record<string, unknown> }
  | { ok: false; error: "invalid_redirect_uri" | "invalid_client_metadata"; description: string };

const CLIENT_ID_PREFIX = "mgwc_";
const MAX_REDIRECT_URIS = 10;
const MAX_URI_LENGTH = 2000;
const MAX_NAME_LENGTH = 100;
const LOOPBACK_IPS = new Set(["127.0.0.1", "[::1]"]);

/** https anywhere; plain http only on loopback (RFC 8252 §7.3). No fragment, no credentials. */
export function isAllowedRedirectUri(uri: string): boolean {
  if (uri.length > MAX_URI_LENGTH || !URL.canParse(uri)) return false;
  const url = new URL(uri);
  if (url.hash || url.username || url.password || uri.includes("#")) return false;
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && (LOOPBACK_IPS.has(url.hostname) || url.hostname === "localhost");
}

/** Exact match, except that a loopback IP redirect may use any port (RFC 8252 §7.3). */
export function matchesRedirectUri(client: OAuthClient, uri: string): boolean {
  if (client.redirectUris.includes(uri)) return true;
  if (!URL.canParse(uri)) return false;
  const asked = new URL(uri);
  if (asked.protocol !== "http:" || !LOOPBACK_IPS.has(asked.hostname)) return false;
  return client.redirectUris.some((registered) => {
    const url = new URL(registered);
    url.port = asked.port;
    return url.protocol === "http:" && LOOPBACK_IPS.has(url.hostname) && url.href === asked.href;
  });
}

function cleanName(value: unknown, fallback: string): string {
  // Control characters would only serve to disguise a name on the consent page.
  const name = typeof value === "string" ? value.replace(/[\p{Cc}\p{Cf}]/gu, "").trim().slice(0, MAX_NAME_LENGTH) : "";
  return name || fallback;
}

type MetadataCheck = { ok: true; name: string; redirectUris: string[] } | { ok: false; error: "invalid_redirect_uri" | "invalid_client_metadata"; description: string };

function checkClientMetadata(body: unknown, fallbackName: string): MetadataCheck {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { ok: false, error: "invalid_client_metadata", description: "Send the client metadata as a JSON object." };
  const m = body as Record<string, unknown>;
  const uris = m.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_REDIRECT_URIS || !uris.every((u) => typeof u === "string")) {
    return { ok: false, error: "invalid_redirect_uri", description: `redirect_uris must list 1 to ${MAX_REDIRECT_URIS} URIs.` };
  }
  const bad = uris.find((u) => !isAllowedRedirectUri(u));
  if (bad !== undefined) return { ok: false, error: "invalid_redirect_uri", description: "Redirect URIs must be https, or http on a loopback address, without a fragment." };
  const grants = m.grant_types ?? ["authorization_code"];
  if (!Array.isArray(grants) || grants.some((g) => g !== "authorization_code" && g !== "refresh_token")) {
    return { ok: false, error: "invalid_client_metadata", description: "Only the authorization_code and refresh_token grants are supported." };
  }
  const responses = m.response_types ?? ["code"];
  if (!Array.isArray(responses) || responses.some((r) => r !== "code")) return { ok: false, error: "invalid_client_metadata", description: "Only response_type code is supported." };
  return { ok: true, name: cleanName(m.client_name, fallbackName), redirectUris: [...new Set(uris as string[])] };
}

/**
 * RFC 7591. Every client is registered as public (token_endpoint_auth_method none), whatever it
 * asked for: the server may replace requested values, and says so in its answer.
 */
export async function registerClient(database: Database, body: unknown, now = Date.now()): Promise<RegisterResult> {
  const check = checkClientMetadata(body, "Unnamed client");
  if (!check.ok) return check;
  const id = CLIENT_ID_PREFIX + generateToken(16);
  await database.db.insert(database.t.oauthClients).values({ id, name: check.name, redirectUris: JSON.stringify(check.redirectUris), createdAt: now });
  return {
    ok: true,
    registration: {
      client_id: id,
      client_id_issued_at: Math.floor(now / 1000),
      client_name: check.name,
      redirect_uris: check.redirectUris,
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    },
  };
}

export async function findRegisteredClient(database: Database, clientId: string): Promise<OAuthClient | null> {
  if (!clientId.startsWith(CLIENT_ID_PREFIX) || clientId.length > 100) return null;
  const [row] = await database.db.select().from(database.t.oauthClients).where(eq(database.t.oauthClients.id, clientId));
  return row ? { id: row.id, name: row.name, redirectUris: JSON.parse(row.redirectUris) as string[], source: "registered" } : null;
}

/** A client id that names a Client ID Metadata Document: https, with a path, nothing else. */
export function isMetadataDocumentUrl(clientId: string): boolean {
  if (!clientId.startsWith("https://") || clientId.length > MAX_URI_LENGTH || !URL.canParse(clientId)) return false;
  const url = new URL(clientId);
  return url.pathname !== "/" && !url.hash && !url.username && !url.password;
}

/** Reads and checks a Client ID Metadata Document with the given (SSRF-guarded) fetch. */
/**
 * Reads and checks a Client ID Metadata Document with the given fetch, which must be the guarded
 * fetch held to CLIENT_DOCUMENT_BUDGET: it stops reading at the budget instead of reading it all.
 */
export async function loadMetadataDocument(fetchDocument: typeof fetch, url: string): Promise<ClientLookup> {
  const refuse = (reason: string): ClientLookup => ({ ok: false, refused: "document", reason });
  if (!isMetadataDocumentUrl(url)) return refuse("The client id is not an https URL with a path.");
  let body: unknown;
  try {
    const response = await fetchDocument(url, { headers: { accept: "application/json" }, redirect: "error" });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      return refuse(`The client's metadata document answered HTTP ${response.status}.`);
    }
    const text = await response.text();
    if (text.length > CLIENT_DOCUMENT_BUDGET.maxBytes) return refuse("The client's metadata document is larger than 16 KiB.");
    body = JSON.parse(text);
  } catch (error) {
    if (error instanceof ResponseTooLarge) return refuse("The client's metadata document is larger than 16 KiB.");
    return refuse(`The client's metadata document could not be read (${error instanceof Error ? error.message : String(error)}).`);
  }
  if ((body as { client_id?: unknown } | null)?.client_id !== url) return refuse("The client's metadata document names another client_id than its own URL.");
  const method = (body as { token_endpoint_auth_method?: unknown }).token_endpoint_auth_method;
  if (method !== undefined && method !== "none") return refuse("Only public clients (token_endpoint_auth_method none) are supported.");
  const check = checkClientMetadata(body, new URL(url).host);
  if (!check.ok) return refuse(check.description);
  return { ok: true, client: { id: url, name: check.name, redirectUris: check.redirectUris, source: "metadata_document" } };
}

/** `requester` is the address asking (see web/rate-limit.ts): fetches it causes are limited per address. */
export type ClientResolver = (clientId: string, requester: string) => Promise<ClientLookup>;

export type ClientResolverOptions = { now?: () => number; fetches?: RateLimiter };

/**
 * Registered clients from the database; metadata documents fetched once for everyone asking at
 * the same time, then kept (a good one five minutes, a refusal one minute), in a bounded cache.
 */
export function createClientResolver(database: Database, fetchDocument: typeof fetch, options: ClientResolverOptions = {}): ClientResolver {
  const now = options.now ?? Date.now;
  const fetches = options.fetches ?? createRateLimiter({ limit: DOCUMENT_FETCHES_PER_MINUTE, windowMs: 60_000 });
  const kept = new Map<string, { lookup: ClientLookup; until: number }>();
  const loading = new Map<string, Promise<ClientLookup>>();
  return async (clientId, requester) => {
    if (!isMetadataDocumentUrl(clientId)) {
      const client = await findRegisteredClient(database, clientId);
      return client ? { ok: true, client } : { ok: false, refused: "not_registered", reason: "This client is not registered with the gateway." };
    }
    const hit = kept.get(clientId);
    if (hit && hit.until > now()) return hit.lookup;
    const running = loading.get(clientId);
    if (running) return running;
    const allowed = fetches.take(requester, now());
    if (!allowed.ok) {
      return { ok: false, refused: "rate_limited", reason: "Too many client metadata documents fetched for this address.", retryAfterSeconds: allowed.retryAfterSeconds };
    }
    const load = loadMetadataDocument(fetchDocument, clientId).then((lookup) => {
      if (kept.size >= KEPT_DOCUMENTS) kept.delete(kept.keys().next().value as string);
      kept.set(clientId, { lookup, until: now() + (lookup.ok ? DOCUMENT_KEPT_MS : REFUSAL_KEPT_MS) });
      return lookup;
    });
    loading.set(clientId, load);
    return load.finally(() => loading.delete(clientId));
  };
}
