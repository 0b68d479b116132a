// What a connection authenticates upstream with. Pure: no database, no crypto (credentials.ts seals
// and stores these); where each kind travels is its auth-kinds/ module's business.

/** What a connection authenticates upstream with. Never leaves the server. */
export type UpstreamSecret =
  | { kind: "bearer"; token: string }
  | { kind: "header"; header: string; value: string }
  /** An API key the upstream takes inside its URL, in place of `{key}` (Firecrawl does this). */
  | { kind: "url"; key: string }
  | { kind: "oauth"; data: Record<string, unknown> }
  /** Enterprise-managed (ID-JAG): the connection's client at the upstream's AS, or a member's token. */
  | { kind: "id-jag"; data: IdJagData };

/** Shared row: clientId, clientSecret, issuer. A member's row: accessToken, obtainedAt, expiresAt. */
export type IdJagData = { clientId?: string; clientSecret?: string; issuer?: string; accessToken?: string; obtainedAt?: number; expiresAt?: number | null };

/** Where a `url` credential goes in a connection's URL; the stored and displayed URL keep the placeholder. */
export const URL_KEY_PLACEHOLDER = "{key}";
/** The placeholder as written, and as a URL parser leaves it. */
export const URL_KEY_FORMS = [URL_KEY_PLACEHOLDER, "%7Bkey%7D", "%7bkey%7d"];

export function hasUrlKeyPlaceholder(url: string): boolean {
  return URL_KEY_FORMS.some((form) => url.includes(form));
}
