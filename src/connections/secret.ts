// What a connection authenticates upstream with, and where each kind of secret travels. Pure: no
// database, no crypto (credentials.ts seals and stores these).

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
const PLACEHOLDER_FORMS = [URL_KEY_PLACEHOLDER, "%7Bkey%7D", "%7bkey%7d"];

export function hasUrlKeyPlaceholder(url: string): boolean {
  return PLACEHOLDER_FORMS.some((form) => url.includes(form));
}

/** The URL actually requested: the stored URL with a `url` credential put in its place. */
export function upstreamUrl(url: string, secret: UpstreamSecret | null): string {
  if (secret?.kind !== "url") return url;
  let result = url;
  for (const form of PLACEHOLDER_FORMS) result = result.split(form).join(encodeURIComponent(secret.key));
  return result;
}

/** Headers that carry a static secret upstream (OAuth tokens go through the SDK's auth provider). */
export function credentialHeaders(secret: UpstreamSecret | null): Record<string, string> {
  if (secret?.kind === "bearer") return { authorization: `Bearer ${secret.token}` };
  if (secret?.kind === "header") return { [secret.header]: secret.value };
  return {};
}
