import { eq } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { generateToken } from "../../crypto/tokens.ts";

/**
 * Who an MCP client is: either registered here through Dynamic Client Registration (RFC 7591), or
 * an https URL whose Client ID Metadata Document we fetch. Either way a public client (PKCE, no
 * secret) with a fixed list of redirect URIs. Names are whatever the client says: untrusted text.
 */

export type OAuthClient = { id: string; name: string; redirectUris: string[]; source: "registered" | "metadata_document" };

export type ClientLookup = { ok: true; client: OAuthClient } | { ok: false; reason: string };

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
export async function loadMetadataDocument(fetchDocument: typeof fetch, url: string): Promise<ClientLookup> {
  if (!isMetadataDocumentUrl(url)) return { ok: false, reason: "The client id is not an https URL with a path." };
  let body: unknown;
  try {
    const response = await fetchDocument(url, { headers: { accept: "application/json" }, redirect: "error", signal: AbortSignal.timeout(5000) });
    if (response.status !== 200) return { ok: false, reason: `The client's metadata document answered HTTP ${response.status}.` };
    const text = await response.text();
    if (text.length > 16_384) return { ok: false, reason: "The client's metadata document is larger than 16 KiB." };
    body = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `The client's metadata document could not be read (${error instanceof Error ? error.message : String(error)}).` };
  }
  if ((body as { client_id?: unknown } | null)?.client_id !== url) return { ok: false, reason: "The client's metadata document names another client_id than its own URL." };
  const method = (body as { token_endpoint_auth_method?: unknown }).token_endpoint_auth_method;
  if (method !== undefined && method !== "none") return { ok: false, reason: "Only public clients (token_endpoint_auth_method none) are supported." };
  const check = checkClientMetadata(body, new URL(url).host);
  if (!check.ok) return { ok: false, reason: check.description };
  return { ok: true, client: { id: url, name: check.name, redirectUris: check.redirectUris, source: "metadata_document" } };
}

export type ClientResolver = (clientId: string) => Promise<ClientLookup>;

/** Registered clients from the database; metadata documents fetched and kept for five minutes. */
export function createClientResolver(database: Database, fetchDocument: typeof fetch, now: () => number = Date.now): ClientResolver {
  const cache = new Map<string, { client: OAuthClient; until: number }>();
  return async (clientId) => {
    if (!isMetadataDocumentUrl(clientId)) {
      const client = await findRegisteredClient(database, clientId);
      return client ? { ok: true, client } : { ok: false, reason: "This client is not registered with the gateway." };
    }
    const hit = cache.get(clientId);
    if (hit && hit.until > now()) return { ok: true, client: hit.client };
    const loaded = await loadMetadataDocument(fetchDocument, clientId);
    if (loaded.ok) {
      if (cache.size >= 500) cache.delete(cache.keys().next().value as string);
      cache.set(clientId, { client: loaded.client, until: now() + 5 * 60_000 });
    }
    return loaded;
  };
}
