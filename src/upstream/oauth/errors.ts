/**
 * The stored OAuth grant can no longer be used without a person: a refresh was refused, the
 * upstream refused the token and there is no refresh token, or the connection was never
 * authorized. `reason` is a sentence for the dashboard and for tool errors; it never holds a secret.
 */
export class NeedsReauthorization extends Error {
  override name = "NeedsReauthorization";

  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The authorization server cannot be used safely (no PKCE S256, wrong issuer, …); retrying will not help. */
export class AuthorizationServerRefused extends Error {
  override name = "AuthorizationServerRefused";

  constructor(readonly reason: string) {
    super(reason);
  }
}
